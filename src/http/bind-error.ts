import { StartupError } from '../errors.js';

/**
 * Why HOST:PORT could not be bound, in words that name the setting to change (`npm run demo`
 * beside a running demo used to die with "unexpected error: listen EADDRINUSE"). Errors this
 * does not know are returned as they are.
 */
export function bindError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`Port ${port} on ${host} is already in use (another stripe-billing-mcp?). Set PORT=… to use another port, e.g. PORT=${port >= 65535 ? 8788 : port + 1}.`);
    case 'EACCES':
      return new StartupError(`Port ${port} on ${host} needs privileges this user does not have. Set PORT to 1024 or above (e.g. PORT=8787) and put a reverse proxy on the low port.`);
    case 'EADDRNOTAVAIL':
      return new StartupError(`HOST=${host} is not an address of this machine, so nothing can listen on it. Set HOST=127.0.0.1 (this machine only) or HOST=0.0.0.0 (every interface).`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`HOST=${host} does not resolve to an address of this machine. Set HOST to an IP address, e.g. HOST=127.0.0.1.`);
    default:
      return error;
  }
}
