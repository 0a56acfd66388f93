export { FileHostShare, hostShareDir } from './file-host-share.js';
export type { HostShare, SharedValue } from './host-share.js';
export { sharedPoint, sharedPoints, sharedTier } from './shared-tier.js';
