import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';

/** Debian's Chromium: the only browser this project uses, installed by `.ci/run` when missing. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * The page the ceremonies run in. Its origin is the WebAuthn origin the identity service must be
 * configured with. It turns the JSON options from the server into the binary form the browser API
 * takes, and the credential back into the JSON the server expects (base64url everywhere).
 */
const pageHtml = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Numezis passkeys (test page)</title>
<script>
  const fromB64 = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=')), (c) =>
      c.charCodeAt(0),
    ).buffer;
  const toB64 = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const descriptors = (list) => (list ?? []).map((entry) => ({ ...entry, id: fromB64(entry.id) }));
  const common = (credential) => ({
    id: credential.id,
    rawId: toB64(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  });
  window.numezisPasskeys = {
    async create(optionsJson) {
      const options = JSON.parse(optionsJson);
      const credential = await navigator.credentials.create({
        publicKey: {
          ...options,
          challenge: fromB64(options.challenge),
          user: { ...options.user, id: fromB64(options.user.id) },
          excludeCredentials: descriptors(options.excludeCredentials),
        },
      });
      return JSON.stringify({
        ...common(credential),
        response: {
          clientDataJSON: toB64(credential.response.clientDataJSON),
          attestationObject: toB64(credential.response.attestationObject),
          transports: credential.response.getTransports(),
        },
      });
    },
    async get(optionsJson, userVerification) {
      const options = JSON.parse(optionsJson);
      if (userVerification !== undefined) options.userVerification = userVerification;
      const credential = await navigator.credentials.get({
        publicKey: { ...options, challenge: fromB64(options.challenge), allowCredentials: descriptors(options.allowCredentials) },
      });
      const { response } = credential;
      return JSON.stringify({
        ...common(credential),
        response: {
          clientDataJSON: toB64(response.clientDataJSON),
          authenticatorData: toB64(response.authenticatorData),
          signature: toB64(response.signature),
          userHandle: response.userHandle === null ? undefined : toB64(response.userHandle),
        },
      });
    },
  };
</script>
<p>Passkey ceremonies for the end-to-end tests.</p>
</html>
`;

type UserVerification = 'required' | 'preferred' | 'discouraged';

interface PageApi {
  numezisPasskeys: {
    create(optionsJson: string): Promise<string>;
    get(optionsJson: string, userVerification?: UserVerification): Promise<string>;
  };
}

export interface PasskeyPageServer {
  /** `http://localhost:<port>`: a secure context without TLS, and the RP id `localhost` covers it. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startPasskeyPage(): Promise<PasskeyPageServer> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(pageHtml);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, 'localhost', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Debian's Chromium, headless. A machine without it fails the run: passkeys are never left untested. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is missing at ${chromiumPath}: the passkey tests need it. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (.ci/run does this).',
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A browser tab on the passkey page with a virtual platform authenticator of its own. */
export interface VirtualAuthenticator {
  /** `navigator.credentials.create` with the server's options JSON; the registration response JSON. */
  create(optionsJson: string): Promise<string>;
  /**
   * `navigator.credentials.get` with the server's options JSON; the assertion response JSON. A
   * client may replace the options' `userVerification`, as any script on the page could.
   */
  get(optionsJson: string, options?: { userVerification?: UserVerification }): Promise<string>;
  /** Whether the simulated person passes the authenticator's user verification (PIN, biometrics). */
  setUserVerified(verified: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function openVirtualAuthenticator(browser: Browser, origin: string): Promise<VirtualAuthenticator> {
  const context: BrowserContext = await browser.newContext();
  try {
    const page: Page = await context.newPage();
    await page.goto(origin);
    const cdp: CDPSession = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return {
      create: (optionsJson) =>
        page.evaluate((options) => (globalThis as unknown as PageApi).numezisPasskeys.create(options), optionsJson),
      get: (optionsJson, options = {}) =>
        page.evaluate(
          ([json, userVerification]) =>
            (globalThis as unknown as PageApi).numezisPasskeys.get(json, userVerification ?? undefined),
          [optionsJson, options.userVerification ?? null] as const,
        ),
      setUserVerified: async (verified) => {
        await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
      },
      close: () => context.close(),
    };
  } catch (error) {
    await context.close();
    throw error;
  }
}
