export { startTelemetry, type Telemetry, tracingEnabled } from './sdk.js';
