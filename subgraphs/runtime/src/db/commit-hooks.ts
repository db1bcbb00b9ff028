/**
 * Callbacks that run once a transaction has committed: code inside a transaction learns whether
 * what it wrote there became durable (the audit wrapper does, so a mutation that fails after its
 * change committed does not leave a second, contradicting event).
 */
const hooks = new WeakMap<object, (() => void)[]>();

export function afterCommit(tx: object, callback: () => void): void {
  const list = hooks.get(tx);
  if (list === undefined) hooks.set(tx, [callback]);
  else list.push(callback);
}

/** Called by the data access path when `tx` committed. */
export function runCommitHooks(tx: object): void {
  const list = hooks.get(tx);
  hooks.delete(tx);
  for (const callback of list ?? []) callback();
}
