// Defence against DNS rebinding: a web page on evil.example can make its own name resolve to
// 127.0.0.1, but its requests still carry `Host: evil.example`. We answer only requests whose Host
// names this machine: localhost, an IP literal (a page can only be same-origin with an IP literal
// if it was served from it), the host we were told to bind, or this machine's own host name.
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export type HostCheck = (hostHeader: string | undefined) => boolean;

export function createHostCheck(options: { configuredHost: string; machineHostname?: string }): HostCheck {
  const machine = (options.machineHostname ?? hostname()).toLowerCase();
  const allowed = new Set(['localhost', machine, `${machine}.local`, normalizeHostname(options.configuredHost)]);
  return (hostHeader) => {
    if (!hostHeader) return false;
    const name = hostnameOfHostHeader(hostHeader);
    if (name === undefined) return false;
    return allowed.has(name) || name.endsWith('.localhost') || isIP(name) !== 0;
  };
}

/** `Example.COM:7340` -> `example.com`; `[::1]:7340` -> `::1`; undefined when malformed. */
export function hostnameOfHostHeader(hostHeader: string): string | undefined {
  const header = hostHeader.trim();
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    if (end < 0) return undefined;
    const rest = header.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return undefined;
    return header.slice(1, end).toLowerCase();
  }
  const match = /^([^:\s/@]+)(?::\d+)?$/.exec(header);
  return match ? normalizeHostname(match[1]!) : undefined;
}

function normalizeHostname(name: string): string {
  return name.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}
