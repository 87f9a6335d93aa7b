/** IPv4 CIDR arithmetic for config validation and subnet planning (no dependencies). */

export interface Cidr {
  readonly text: string;
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefix: number;
  /** Last address as an unsigned 32-bit number. */
  readonly last: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns an error text instead of throwing. */
export function parseCidr(text: string): Cidr | string {
  const m = CIDR_RE.exec(text);
  if (!m) return `"${text}" is not an IPv4 CIDR of the form a.b.c.d/n`;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255)) return `"${text}" has an octet above 255`;
  if (prefix > 32) return `"${text}" has a prefix length above 32`;
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const size = 2 ** (32 - prefix);
  const network = prefix === 0 ? 0 : Math.floor(address / size) * size;
  if (network !== address) {
    return `"${text}" has host bits set; the network address is ${formatIp(network)}/${prefix}`;
  }
  return { text, network, prefix, last: network + size - 1 };
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.network >= outer.network && inner.last <= outer.last;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= b.last && b.network <= a.last;
}

/** Terraform's cidrsubnet(): the `index`-th subnet with `newBits` more prefix bits. */
export function subnet(parent: Cidr, newBits: number, index: number): string {
  const prefix = parent.prefix + newBits;
  if (prefix > 32) throw new Error(`cannot add ${newBits} bits to /${parent.prefix}`);
  if (index >= 2 ** newBits) throw new Error(`subnet index ${index} does not fit in ${newBits} bits`);
  return `${formatIp(parent.network + index * 2 ** (32 - prefix))}/${prefix}`;
}
