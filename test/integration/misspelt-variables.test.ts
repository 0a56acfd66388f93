import { expect } from 'chai';
import { type SpawnedServer, spawnServer } from '../helpers/spawn-server.js';

// A misspelt variable was ignored in silence: LLM_MODLE left /chat on its default model, and
// ENERGY_SOUCE the estimate on. The real service, its own start-up log.
describe('misspelt variables (spawned service)', function () {
  this.timeout(60_000);
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const warned = (stdout: string[]) =>
    stdout
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => entry.msg.includes('carbonscope reads'));

  it("names the library's and its own in one warning at start, and no value", async () => {
    server = await spawnServer({
      CARBON_INTENSITY: '300',
      OTEL_TRACES_EXPORTER: 'none',
      ENERGY_SOUCE: 'rapl',
      LLM_MODLE: 'sekrit-model',
    });
    expect(await server.stop()).to.equal(0);
    const lines = warned(server.stdout);
    expect(lines.map((l) => [l.level, l.msg])).to.deep.equal([
      [
        40,
        'ENERGY_SOUCE (did you mean ENERGY_SOURCE?), LLM_MODLE (did you mean LLM_MODEL?) are not variables carbonscope reads: they are ignored',
      ],
    ]);
    expect(server.stdout.join('\n')).to.not.include('sekrit');
  });

  it('says nothing of the variables it reads', async () => {
    server = await spawnServer({
      CARBON_INTENSITY: '300',
      OTEL_TRACES_EXPORTER: 'none',
      LLM_MODEL: 'gpt-4o-mini',
      ORT_DISABLE_TELEMETRY: '1',
    });
    expect(await server.stop()).to.equal(0);
    expect(warned(server.stdout)).to.deep.equal([]);
  });
});
