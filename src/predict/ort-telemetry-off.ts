/**
 * Imported before onnxruntime-node wherever it is: ONNX Runtime 1.29 and later report usage to
 * Microsoft from Linux and macOS (a device id and an event store under
 * `~/.cache/Microsoft/DeveloperTools/.onnxruntime`, uploads to mobile.events.data.microsoft.com)
 * unless `ORT_DISABLE_TELEMETRY=1` is set before its environment starts, and it reads the
 * variable once per process. The service sends nothing its operator did not configure; an
 * operator who sets the variable, to any value, keeps it.
 */
export function ortTelemetryOff(env: NodeJS.ProcessEnv): void {
  if (env.ORT_DISABLE_TELEMETRY === undefined) env.ORT_DISABLE_TELEMETRY = '1';
}

ortTelemetryOff(process.env);
