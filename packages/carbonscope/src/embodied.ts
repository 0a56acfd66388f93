import { shownValue } from './shown-value.js';

/**
 * Embodied emissions: the hardware's manufacturing emissions, amortised over its life and shared
 * by the resources a deployment reserves, as the Software Carbon Intensity specification (ISO/IEC
 * 21031:2024) writes them: M = TE × (TiR / EL) × (RR / ToR). Every figure here is an estimate.
 */

/** A year of 365.25 days: the unit of the expected lifetime EL. */
export const SECONDS_PER_YEAR = 365.25 * 86_400;
const HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600;

/** The hardware profiles EMBODIED_PROFILE takes, each a set of sourced figures. */
export const EMBODIED_PROFILES = ['server', 'laptop', 'cloud-vcpu'] as const;
export type EmbodiedProfile = (typeof EMBODIED_PROFILES)[number];

/** What a profile sets: TE, EL, and for a shared host its total vCPUs (ToR); each sourced. */
export interface EmbodiedProfileFigures {
  /** TE, kgCO2e. */
  readonly totalKg: number;
  /** EL, years. */
  readonly lifetimeYears: number;
  /** ToR, when the profile is a shared host; else the machine seen is the whole host. */
  readonly hostVcpus?: number;
  /** Where the figures come from, in words (also in /energy and the CLI report). */
  readonly source: string;
}

/**
 * The published figures each profile stands for. Cloud Carbon Footprint's coefficients
 * (github.com/cloud-carbon-footprint/cloud-carbon-coefficients: `ccfcoef/constants.py`,
 * `output/coefficients-aws-embodied.csv`, `data/aws-instances.csv`) and the Boavizta API's
 * data (github.com/Boavizta/boaviztapi: `boaviztapi/data/factors.yml`, from ADEME's NegaOctet
 * base, and `archetypes/user_terminal.csv`). The README's table says the same.
 */
export const EMBODIED_PROFILE_FIGURES: Readonly<Record<EmbodiedProfile, EmbodiedProfileFigures>> = {
  server: {
    totalKg: 1000,
    lifetimeYears: 4,
    source: 'Cloud Carbon Footprint: a mono-socket commodity rack server, 1000 kgCO2e, 4-year life',
  },
  laptop: {
    totalKg: 181,
    // Boavizta gives hours, 4 years of 365 days: 4 years of 365.25 days would be 35,064 h.
    lifetimeYears: 35_040 / HOURS_PER_YEAR,
    source: 'Boavizta (ADEME NegaOctet): a professional laptop, 181 kgCO2e, 35,040 h (4 years)',
  },
  'cloud-vcpu': {
    totalKg: 1610.79,
    lifetimeYears: 4,
    hostVcpus: 96,
    source:
      'Cloud Carbon Footprint: an AWS m5 host, 1610.79 kgCO2e over its 96 vCPUs (16.8 kgCO2e per vCPU), 4-year life',
  },
};

/** TE, EL and the reserved share RR / ToR, as the settings give them. */
export interface EmbodiedSettings {
  profile: EmbodiedProfile;
  /** TE: the host's total embodied emissions, kgCO2e. */
  totalKg: number;
  /** EL: the host's expected lifetime, years. */
  lifetimeYears: number;
  /** ToR: the host's vCPUs. */
  hostVcpus: number;
  /** RR: the vCPUs this deployment reserves of them. */
  reservedVcpus: number;
  /** Where TE and EL come from: the profile's source, or `EMBODIED_* settings`. */
  source: string;
}

/** The bounds of TE, EL, ToR and RR, for the EMBODIED_* settings and a caller's own alike. */
export const EMBODIED_LIMITS = {
  totalKg: { min: 0, max: 1_000_000 },
  lifetimeYears: { min: 0.1, max: 50 },
  hostVcpus: { min: 1, max: 1_000_000 },
  reservedVcpus: { min: 1, max: 1_000_000 },
} as const;

/**
 * Throws a RangeError naming the figure of `s` that is not a number within its bounds (vCPUs
 * whole), or RR over ToR: where they were taken as they came, a missing RR made M NaN (which
 * sciOf reads as 0), an EL of 0 made it 0, and 1e-300 years past any real figure.
 */
function checkEmbodied(s: EmbodiedSettings): void {
  for (const field of Object.keys(EMBODIED_LIMITS) as Array<keyof typeof EMBODIED_LIMITS>) {
    const { min, max } = EMBODIED_LIMITS[field];
    const value: unknown = s[field];
    const whole = field === 'hostVcpus' || field === 'reservedVcpus';
    const ok =
      typeof value === 'number' &&
      value >= min &&
      value <= max &&
      (!whole || Number.isInteger(value));
    if (!ok) {
      const kind = whole ? 'a whole number' : 'a number';
      throw new RangeError(
        `embodied ${field}: expected ${kind} from ${min} to ${max}, got ${shownValue(value)}`,
      );
    }
  }
  if (s.reservedVcpus > s.hostVcpus) {
    throw new RangeError(
      `embodied reservedVcpus: expected at most the host's ${s.hostVcpus} vCPUs, got ${s.reservedVcpus}`,
    );
  }
}

/**
 * The rate at which the reserved share of the host embodies emissions: TE / EL × RR / ToR,
 * gCO2e per second. Over a time TiR it gives M; 0 when TE is 0 (embodied emissions left out).
 * Throws a RangeError naming a figure out of its bounds.
 */
export function embodiedGramsPerSecond(s: EmbodiedSettings): number {
  checkEmbodied(s);
  if (s.totalKg === 0) return 0;
  return (
    ((s.totalKg * 1000) / (s.lifetimeYears * SECONDS_PER_YEAR)) * (s.reservedVcpus / s.hostVcpus)
  );
}
