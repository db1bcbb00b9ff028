import { listen, runService } from '@numezis/runtime/server/run';
import { createGateway } from './app.ts';
import { readGatewayConfig } from './config.ts';

let shutdownTimeoutMs = 10_000;
await runService(
  'gateway',
  async () => {
    const config = readGatewayConfig(process.env);
    shutdownTimeoutMs = config.shutdownTimeoutMs;
    const gateway = await createGateway(config);
    const address = await listen(gateway.app, config.host, config.port, 'GATEWAY_PORT');
    if (gateway.httpsRedirect !== null && config.httpRedirectPort !== null) {
      await listen(gateway.httpsRedirect, config.host, config.httpRedirectPort, 'GATEWAY_HTTP_REDIRECT_PORT');
    }
    gateway.app.log.info({ address, authMode: config.authMode, tls: config.tls !== null }, 'gateway ready');
    return gateway;
  },
  () => shutdownTimeoutMs,
);
