import { expect } from 'chai';
import { inTelemetryChild } from '../../helpers/telemetry-child.js';

/** The target_info line of the app's /metrics exposition, started with `env`. */
function targetInfo(env: Record<string, string>): Promise<string> {
  return inTelemetryChild<string>(
    env,
    `const text = (await telemetry.metricsText()).toString('utf8');
     return text.split('\\n').find((l) => l.startsWith('target_info{')) ?? '';`,
  );
}

describe("the app's telemetry resource", function () {
  this.timeout(40_000);

  // The metrics-only start must describe the service as NodeSDK did: its name, version and
  // instance, and OTEL_RESOURCE_ATTRIBUTES on top.
  for (const [label, tracing] of [
    ['tracing off (a meter provider of its own)', 'none'],
    ['tracing on (NodeSDK)', 'console'],
  ] as const) {
    it(`names the service and merges OTEL_RESOURCE_ATTRIBUTES, ${label}`, async () => {
      const info = await targetInfo({
        OTEL_TRACES_EXPORTER: tracing,
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
      });
      expect(info).to.include('service_name="checkout"');
      expect(info).to.match(/service_version="\d+\.\d+\.\d+"/);
      expect(info).to.include('service_instance_id=');
      expect(info).to.include('deployment_environment_name="staging"');
      expect(info).not.to.include('host_name');
    });
  }
});
