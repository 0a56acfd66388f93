/**
 * The CLI's environment in a test, deterministic and offline: this process's, with the estimate
 * source, a fixed grid intensity, no Electricity Maps key and the default log level; `extra`
 * comes over them.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ENERGY_SOURCE: 'estimate',
    CARBON_INTENSITY: '300',
    CARBON_ZONE: 'DE',
    ELECTRICITY_MAPS_API_KEY: '',
    ELECTRICITY_MAP_API_KEY: '',
    LOG_LEVEL: '',
    ...extra,
  };
}
