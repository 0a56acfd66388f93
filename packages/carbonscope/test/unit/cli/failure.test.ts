import { expect } from 'chai';
import {
  IMPACTS_HELP,
  MONITOR_HELP,
  RUN_HELP,
  UsageError,
  unknownCommand,
} from '../../../src/cli/args.js';
import { asksVerbose, failureOf, unexpectedErrorText } from '../../../src/cli/failure.js';
import { SettingsError } from '../../../src/settings.js';
import { ODD_THROWS, textlessValue } from '../../helpers/textless-throws.js';

describe('unexpected errors on the command line', () => {
  it('are one line without --verbose, the stack with it', () => {
    const err = new TypeError("The argument 'file' cannot be empty.\nReceived ''");
    expect(unexpectedErrorText(err, false)).to.equal(
      "carbonscope: error: TypeError: The argument 'file' cannot be empty.\n",
    );
    const verbose = unexpectedErrorText(err, true);
    expect(verbose).to.match(/^carbonscope: error: TypeError: The argument 'file'/);
    expect(verbose).to.match(/\n {4}at /);
    expect(unexpectedErrorText('a string', false)).to.equal('carbonscope: error: a string\n');
  });

  it('reads --verbose from carbonscope options, never from the command run', () => {
    expect(asksVerbose('monitor', ['-d', '1s', '-v'])).to.equal(true);
    expect(asksVerbose('run', ['--verbose', '--', 'true'])).to.equal(true);
    expect(asksVerbose('run', ['--', 'grep', '-v', 'x'])).to.equal(false);
    expect(asksVerbose('run', ['grep', '--verbose'])).to.equal(false);
    expect(asksVerbose('impacts', ['-m', 'gpt-4o'])).to.equal(false);
  });

  it('reads -v inside a group of short options, as the option parser does', () => {
    expect(asksVerbose('monitor', ['-hv'])).to.equal(true);
    expect(asksVerbose('monitor', ['-vd', '1s'])).to.equal(true);
    expect(asksVerbose('run', ['-hv', '--', 'true'])).to.equal(true);
    expect(asksVerbose('run', ['-vz', 'DE', '--', 'true'])).to.equal(true);
    // After a short option that takes a value, the rest of the group is that value.
    expect(asksVerbose('monitor', ['-dv'])).to.equal(false);
    expect(asksVerbose('run', ['-ov', '--', 'true'])).to.equal(false);
    // The command's own -v, grouped or not, is the command's.
    expect(asksVerbose('run', ['--', 'node', '-v'])).to.equal(false);
    expect(asksVerbose('run', ['-z', 'DE', '--', 'grep', '-iv', 'x'])).to.equal(false);
    expect(asksVerbose('run', ['-z', 'DE', 'grep', '-iv', 'x'])).to.equal(false);
  });

  it('words an invalid setting as the service does, exit 2 as a usage error, in each command', () => {
    for (const command of ['run', 'monitor', 'impacts']) {
      const failure = failureOf(
        new SettingsError('PUE', 'expected a decimal number'),
        command,
        [],
        {},
      );
      expect(failure, command).to.deep.equal({
        text: 'carbonscope: invalid setting PUE: expected a decimal number\n',
        code: 2,
      });
    }
  });

  // The README gave the invalid setting's exit 2 in all three; each --help said nothing of it.
  it("says in each command's --help that an invalid setting exits 2", () => {
    for (const [command, help] of [
      ['run', RUN_HELP],
      ['monitor', MONITOR_HELP],
      ['impacts', IMPACTS_HELP],
    ]) {
      expect(help.replace(/\s+/g, ' '), command).to.include(
        '2 for a usage error or an invalid setting',
      );
    }
  });

  it('never prints a secret it knows: not in the message, not in the stack', () => {
    const env = {
      ELECTRICITY_MAPS_API_KEY: 'em-KEY-0123456789',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20otlp-TOKEN-4f9a2c',
    };
    const argv = ['-v', '--otlp', 'http://al:PW%40SECRET9@collector:4318', '--', 'true'];
    // An upstream's error may quote anything it was given: the URL, a header, the key.
    const quoting = new Error(
      'request to http://al:PW@SECRET9@collector:4318 failed (em-KEY-0123456789)',
    );
    quoting.stack = `${quoting.message}\n    at send (Bearer otlp-TOKEN-4f9a2c)\n    at x`;
    const printed = [
      failureOf(quoting, 'run', argv, env).text,
      failureOf(quoting, 'run', argv.slice(1), env).text,
      failureOf(quoting, 'monitor', ['-v', '--otlp=http://al:PW%40SECRET9@c:4318'], env).text,
      failureOf(new UsageError('got em-KEY-0123456789'), 'run', argv, env).text,
      failureOf(new SettingsError('PUE', 'got em-KEY-0123456789'), 'run', argv, env).text,
    ];
    expect(printed[0]).to.match(/\n {4}at send \(\[redacted\]\)/);
    for (const text of printed) {
      for (const secret of ['PW@SECRET9', 'PW%40SECRET9', 'em-KEY-0123456789', 'otlp-TOKEN']) {
        expect(text).to.not.contain(secret);
      }
    }
    // What is no secret stays readable.
    expect(printed[0]).to.contain('collector:4318 failed');
  });

  // A command's option put before the command (`carbonscope --otlp=URL run`) is the command
  // main reads: the unknown option's line quoted its password, masked only after the command.
  it('never prints the password of an option given in place of the command', () => {
    const option = '--otlp=http://al:PW%40SECRET9@collector:4318';
    const { text } = failureOf(new UsageError(unknownCommand(option)), option, ['run'], {});
    expect(text).to.match(/^carbonscope: unknown option '--otlp=http:\/\/\[redacted\]@collector/);
    for (const secret of ['PW@SECRET9', 'PW%40SECRET9']) expect(text).to.not.contain(secret);
  });
});

// @opentelemetry/api is carbonscope's one required peer: npm's --omit=peer, legacy-peer-deps or
// an older npm leave it out, and `run` and `monitor` printed Node's ERR_MODULE_NOT_FOUND, exit 1.
describe('@opentelemetry/api not installed', () => {
  const missing = (name: string) =>
    Object.assign(
      new Error(
        `Cannot find package '${name}' imported from /app/node_modules/carbonscope/dist/src/otel/untraced.js`,
      ),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );

  it('names the package and its install line, exit 2, in each command', () => {
    for (const command of ['run', 'monitor']) {
      expect(failureOf(missing('@opentelemetry/api'), command, [], {})).to.deep.equal({
        text: `carbonscope: ${command} needs @opentelemetry/api: npm install @opentelemetry/api\n`,
        code: 2,
      });
    }
  });

  it('leaves any other missing package an unexpected error', () => {
    const { code, text } = failureOf(missing('@opentelemetry/api-logs'), 'run', [], {});
    expect(code).to.equal(1);
    expect(text).to.match(
      /^carbonscope: error: Error: Cannot find package '@opentelemetry\/api-logs'/,
    );
  });
});

// main's last word on an error a command threw: String() of a value with no prototype, an Error
// whose message has none, or a Proxy's throwing traps threw in its turn, and main rejected with
// Node's own report (a stack, exit 1) where carbonscope's one line was due.
describe('an unexpected error whose text cannot be read', () => {
  // String() reads an Error's name beside its message, where it can: `Error: 42`.
  const shown = (said: string) => (said === '42' ? 'Error: 42' : said);

  for (const { name, source, said } of ODD_THROWS) {
    it(`${name}: one line that names it as it can, exit 1`, () => {
      expect(failureOf(textlessValue(source), 'run', ['--', 'true'], {})).to.deep.equal({
        text: `carbonscope: error: ${shown(said)}\n`,
        code: 1,
      });
    });
  }

  it('--verbose, a value that throws when asked whether it is an Error: one line', () => {
    const proxy = ODD_THROWS.find((t) => t.name.startsWith('a Proxy'))?.source ?? '';
    expect(failureOf(textlessValue(proxy), 'run', ['-v', '--', 'true'], {}).text).to.equal(
      'carbonscope: error: a value with no text\n',
    );
  });

  it('--verbose, an Error whose stack getter throws: its first line instead', () => {
    const err = Object.defineProperty(new TypeError('bad state\nmore'), 'stack', {
      get() {
        throw new Error('no stack');
      },
    });
    expect(unexpectedErrorText(err, true)).to.equal('carbonscope: error: TypeError: bad state\n');
  });

  it('a missing module whose message cannot be read: an unexpected error', () => {
    const err = { code: 'ERR_MODULE_NOT_FOUND', message: Object.create(null) };
    expect(failureOf(err, 'run', [], {})).to.deep.equal({
      text: 'carbonscope: error: [object Object]\n',
      code: 1,
    });
  });
});
