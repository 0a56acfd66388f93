import { readBootId } from '../../proc/index.js';

export interface HostIdentityInputs {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** The kernel's boot id, or undefined where it cannot be read. */
  readonly bootId: () => string | undefined;
}

/**
 * The deployer's `host.id`, else `host.name`, from OTEL_RESOURCE_ATTRIBUTES (they know the
 * node); else on Linux the kernel's boot id, which containers on one node share with the RAPL
 * counters they read (their hostnames differ, so os.hostname() would not do); else none.
 */
export function hostIdentity(inputs: HostIdentityInputs): string | undefined {
  const resource = resourceAttributes(inputs.env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const set = resource.get('host.id') || resource.get('host.name');
  if (set) return set;
  if (inputs.platform !== 'linux') return undefined;
  const bootId = inputs.bootId()?.trim().toLowerCase();
  return bootId && /^[0-9a-f-]{32,36}$/.test(bootId) ? bootId : undefined;
}

/**
 * The items, as the SDK decodes them. A malformed one is skipped, where the SDK drops every
 * attribute (malformedOtelVariables says so): the host.id the deployer wrote is still this
 * host's, and its replicas whose variable is well formed carry it.
 */
function resourceAttributes(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of raw.split(',')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) continue;
    try {
      out.set(
        decodeURIComponent(entry.slice(0, equals).trim()),
        decodeURIComponent(entry.slice(equals + 1).trim()),
      );
    } catch {
      // Not valid percent-encoding: the SDK drops it too.
    }
  }
  return out;
}

let current: { value: string | undefined } | undefined;

/** This process's host identity, read at the first call: the environment and kernel it started in. */
export function currentHostIdentity(): string | undefined {
  current ??= {
    value: hostIdentity({ env: process.env, platform: process.platform, bootId: readBootId }),
  };
  return current.value;
}
