// Ports for tests that need a number before anything listens on it.
import net, { type AddressInfo } from 'node:net';

/** A port nothing listens on: bound by the system, then closed. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await close(server);
  return port;
}

/** The first of `count` consecutive ports free on 127.0.0.1 (held a moment to check, then freed). */
export async function freePortRun(count: number): Promise<number> {
  const listen = (port: number): Promise<net.Server | undefined> =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => {
        resolve(undefined);
      });
      server.listen(port, '127.0.0.1', () => {
        resolve(server);
      });
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listen(0);
    const base = (first?.address() as AddressInfo | null)?.port ?? 0;
    const held = [first];
    for (let i = 1; i < count && base + i < 65536; i++) held.push(await listen(base + i));
    await Promise.all(held.filter((s) => s !== undefined).map(close));
    if (held.length === count && held.every((s) => s !== undefined)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}
