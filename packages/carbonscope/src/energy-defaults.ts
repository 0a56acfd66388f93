// The defaults of energy settings that energy/ also reads: the estimate source's model figures and
// the tracker's calibration interval and operation age. Here, apart from energy/, because the
// settings (settings.ts) give them as defaults and bound them, and energy/ reads the settings:
// kept in energy/, the two would import each other, and the settings would load the tracker.

/**
 * Cloud Carbon Footprint's linear model (from SPECpower data), AWS averages per vCPU:
 * watts = vCPUs × (min + utilization × (max − min)). GCP: 0.71/4.26, Azure: 0.78/3.76.
 */
export const AWS_MIN_WATTS_PER_VCPU = 0.74;
export const AWS_MAX_WATTS_PER_VCPU = 3.5;
/** Average of Crucial's 3 W per 8 GB and Micron's DDR4 figure (CCF), per GiB of installed RAM. */
export const RAM_WATTS_PER_GB = 0.392;

/**
 * A window costs what `exact` does (~50–110 µs of CPU per HTTP request here) for one sample
 * interval; one in 120 keeps that under 1 µs per request averaged, within the 3 µs budget, and
 * a name no window has seen still brings the next one forward.
 */
export const DEFAULT_CALIBRATION_INTERVAL_MS = 120_000;
/** How long an operation may run before it is dropped from sharing (see EnergyTracker.drop). */
export const DEFAULT_MAX_OPERATION_AGE_MS = 3_600_000;
