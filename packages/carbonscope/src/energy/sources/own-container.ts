import { readFileSync } from 'node:fs';
import { permissionRefusal } from '../../permission-refusal.js';

/** What an exporter may know this process's container by; any part may be unknown. */
export interface ContainerIdentity {
  /** The runtime's id: 64 hex digits, or a prefix of at least 12 given by hand. */
  containerId?: string;
  /** The pod's UID (dashed, as Kubernetes writes it). */
  podUid?: string;
  podName?: string;
  podNamespace?: string;
  /** The container's name in its pod (needed only when the pod has several). */
  containerName?: string;
  /** Where each known part came from, for the log. */
  from: string[];
  /** Why /proc/self/cgroup was not read, where Node's permission model refused it. */
  cgroupRefused?: string;
}

export interface CgroupContainer {
  containerId?: string;
  podUid?: string;
  runtime?: string;
}

export const PROC_SELF_CGROUP = '/proc/self/cgroup';

const CONTAINER_ID =
  /(?:^|[/:.-])((?:docker|cri-containerd|containerd|crio|libpod)[-:])?([0-9a-f]{64})(?=\.scope|\/|$)/g;
const POD_UID =
  /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?=\.slice|\/|:|$)/;

/**
 * Finds the container (and pod) this process runs in from its /proc/self/cgroup text. cgroup v1
 * lists one line per hierarchy (`4:cpu,cpuacct:/kubepods/burstable/pod<uid>/<id>`), v2 one line
 * (`0::/kubepods.slice/.../cri-containerd-<id>.scope`); the id appears as Docker
 * (`/docker/<id>`, `docker-<id>.scope`), containerd (`cri-containerd-<id>.scope`,
 * `:cri-containerd:<id>`), CRI-O (`crio-<id>.scope`) and Podman (`libpod-<id>.scope`) write it.
 * CRI-O's `crio-conmon-<id>` is its monitor, not the container. Under a private cgroup
 * namespace (Docker's default on cgroup v2) the path is `/` and nothing can be found here.
 */
export function parseCgroup(text: string): CgroupContainer {
  const found: CgroupContainer = {};
  for (const line of text.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    if (!path) continue;
    for (const m of path.matchAll(CONTAINER_ID)) {
      if (path.slice(0, m.index + 1).endsWith('conmon-')) continue;
      found.containerId = m[2];
      const runtime =
        m[1]?.slice(0, -1) ?? (path.slice(0, m.index + 1).endsWith('/docker/') ? 'docker' : '');
      if (runtime) found.runtime = runtime;
    }
    const pod = POD_UID.exec(path);
    if (pod?.[1]) found.podUid = pod[1].replaceAll('_', '-');
    if (found.containerId) break;
  }
  return found;
}

/** `containerd://abc…` (as `kubectl get pod -o yaml` shows it) or a bare id, lower-cased. */
export function normalizeContainerId(id: string): string {
  return id
    .trim()
    .replace(/^[a-z0-9-]+:\/\//i, '')
    .toLowerCase();
}

export interface OwnContainerOptions {
  /** KEPLER_CONTAINER_ID: wins over what the cgroup says. */
  containerId?: string;
  /** The downward API's values (POD_NAME, POD_NAMESPACE, POD_UID) and CONTAINER_NAME. */
  pod?: { name?: string; namespace?: string; uid?: string; containerName?: string };
  /** Reads /proc/self/cgroup; tests pass the text they wrote. Absent file: nothing found. */
  readCgroup?: () => string;
}

/** Everything this process can tell about its own container, each part with its origin. */
export function ownContainer(o: OwnContainerOptions): ContainerIdentity {
  const id: ContainerIdentity = { from: [] };
  let cgroup: CgroupContainer = {};
  try {
    cgroup = parseCgroup((o.readCgroup ?? (() => readFileSync(PROC_SELF_CGROUP, 'utf8')))());
  } catch (err) {
    // Not Linux, or no procfs: the settings may still say who we are. Refused, the reason said
    // otherwise (a private cgroup namespace) would send a user after the wrong fix.
    const refused = permissionRefusal(err);
    if (refused) id.cgroupRefused = refused;
  }
  if (o.containerId) {
    id.containerId = normalizeContainerId(o.containerId);
    id.from.push('KEPLER_CONTAINER_ID');
  } else if (cgroup.containerId) {
    id.containerId = cgroup.containerId;
    id.from.push(`${PROC_SELF_CGROUP}${cgroup.runtime ? ` (${cgroup.runtime})` : ''}`);
  }
  if (o.pod?.uid) {
    id.podUid = o.pod.uid;
    id.from.push('POD_UID');
  } else if (cgroup.podUid) {
    id.podUid = cgroup.podUid;
  }
  if (o.pod?.name && o.pod.namespace) {
    id.podName = o.pod.name;
    id.podNamespace = o.pod.namespace;
    id.from.push('POD_NAME/POD_NAMESPACE');
  }
  if (o.pod?.containerName) id.containerName = o.pod.containerName;
  return id;
}

/** The identity in a few words: `container 3f2a…c0de, pod shop/web-7d9` . */
export function describeIdentity(id: ContainerIdentity): string {
  const parts: string[] = [];
  if (id.containerId) parts.push(`container ${id.containerId.slice(0, 12)}`);
  if (id.podNamespace && id.podName) parts.push(`pod ${id.podNamespace}/${id.podName}`);
  else if (id.podUid) parts.push(`pod ${id.podUid}`);
  if (id.containerName) parts.push(`container name ${id.containerName}`);
  return parts.length ? parts.join(', ') : 'no container identity';
}
