import { expect } from 'chai';
import { ortTelemetryOff } from '../../../src/predict/ort-telemetry-off.js';

describe('ortTelemetryOff', () => {
  it('sets ORT_DISABLE_TELEMETRY=1 where the operator set nothing', () => {
    const env: NodeJS.ProcessEnv = {};
    ortTelemetryOff(env);
    expect(env).to.deep.equal({ ORT_DISABLE_TELEMETRY: '1' });
  });

  it("keeps the operator's own value, whatever it is", () => {
    for (const value of ['0', '1', '']) {
      const env: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: value };
      ortTelemetryOff(env);
      expect(env.ORT_DISABLE_TELEMETRY).to.equal(value);
    }
  });
});
