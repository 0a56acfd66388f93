import { expect } from 'chai';
import {
  argvSecrets,
  IMPACTS_HELP,
  MAIN_HELP,
  MONITOR_HELP,
  parseDuration,
  parseImpactsArgs,
  parseMonitorArgs,
  parseRunArgs,
  RUN_HELP,
  splitRunArgs,
  UsageError,
  unknownCommand,
} from '../../../src/cli/args.js';
import { endingOf, exitCodeOf } from '../../../src/cli/run.js';
import { otlpMetricsUrl } from '../../../src/cli/session.js';

/** The message of the UsageError that `parse` throws (the test fails where it throws none). */
function usageMessage(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no UsageError thrown');
}

describe('command-line arguments', () => {
  it('parses durations with units, bare numbers as seconds', () => {
    expect(parseDuration('500ms', 'interval')).to.equal(500);
    expect(parseDuration('10s', 'interval')).to.equal(10_000);
    expect(parseDuration('2m', 'interval')).to.equal(120_000);
    expect(parseDuration('1h', 'interval')).to.equal(3_600_000);
    expect(parseDuration('1.5', 'interval')).to.equal(1500);
    expect(() => parseDuration('soon', 'duration')).to.throw(UsageError, /--duration/);
    expect(() => parseDuration('0s', 'duration')).to.throw(UsageError, /more than 0/);
  });

  // Aliases and wrapper scripts rely on the getopt convention: `alias cs='carbonscope run -z FR'`
  // then `cs -z DE -- cmd` is DE. A usage error there would break them.
  it('takes the last value of an option given twice, as getopt tools do', () => {
    expect(parseRunArgs(['-z', 'FR', '--zone', 'DE', '--', 'true']).zone).to.equal('DE');
    expect(parseMonitorArgs(['--interval', '1s', '--interval=2s']).intervalMs).to.equal(2000);
    expect(parseImpactsArgs(['-m', 'gpt-4o', '-n', '10', '-n', '20']).outputTokens).to.equal(20);
    for (const help of [MAIN_HELP, RUN_HELP, MONITOR_HELP]) {
      expect(help).to.match(/option given twice takes its last value/);
    }
  });

  it('splits run options from the command at -- or at the first non-option', () => {
    expect(splitRunArgs(['--json', '--', 'node', '-e', '1'])).to.deep.equal({
      options: ['--json'],
      command: ['node', '-e', '1'],
    });
    expect(splitRunArgs(['-o', 'x.csv', 'node', '--version'])).to.deep.equal({
      options: ['-o', 'x.csv'],
      command: ['node', '--version'],
    });
    // Whatever follows the command belongs to it, even a `--`.
    expect(splitRunArgs(['sh', '-c', 'x', '--', 'y']).command).to.deep.equal([
      'sh',
      '-c',
      'x',
      '--',
      'y',
    ]);
  });

  it('splits after a group of short options whose last one takes the next argument', () => {
    // -vz DE is -v -z DE, as the option parser reads it: DE is the zone, not the command.
    expect(splitRunArgs(['-vz', 'DE', 'node', 'app.js'])).to.deep.equal({
      options: ['-vz', 'DE'],
      command: ['node', 'app.js'],
    });
    expect(splitRunArgs(['-vo', 'x.csv', '--', 'true'])).to.deep.equal({
      options: ['-vo', 'x.csv'],
      command: ['true'],
    });
    // A value written into the group (-zDE, -vzDE) takes no next argument.
    expect(splitRunArgs(['-vzDE', 'node']).command).to.deep.equal(['node']);
    expect(parseRunArgs(['-vz', 'FR', 'node', '-v'])).to.include({ verbose: true, zone: 'FR' });
    expect(parseRunArgs(['-vz', 'FR', 'node', '-v']).command).to.deep.equal(['node', '-v']);
  });

  it('reads the common options', () => {
    const o = parseRunArgs([
      '--zone',
      'FR',
      '--output=e.csv',
      '--json',
      '--project-name',
      'demo',
      '--source',
      'estimate',
      '--interval',
      '250ms',
      '--otlp',
      'http://127.0.0.1:4318',
      '--',
      'true',
    ]);
    expect(o).to.deep.include({
      zone: 'FR',
      output: 'e.csv',
      json: true,
      projectName: 'demo',
      source: 'estimate',
      intervalMs: 250,
      otlp: 'http://127.0.0.1:4318',
      command: ['true'],
    });
    expect(parseRunArgs(['true']).projectName).to.equal('carbonscope');
  });

  it('refuses an empty --project-name, as it does an empty --output or --zone', () => {
    for (const name of ['', '  ']) {
      expect(() => parseRunArgs(['--project-name', name, '--', 'true'])).to.throw(
        UsageError,
        /^--project-name: expected a name, e\.g\. --project-name my-app$/,
      );
      expect(() => parseMonitorArgs([`--project-name=${name}`])).to.throw(
        UsageError,
        /--project-name/,
      );
    }
  });

  it('rejects bad options with a message that names them', () => {
    expect(() => parseRunArgs(['--bogus', '--', 'true'])).to.throw(UsageError, /--bogus/);
    expect(() => parseRunArgs(['--zone', 'germany', '--', 'true'])).to.throw(UsageError, /--zone/);
    expect(() => parseRunArgs(['--source', 'magic', 'true'])).to.throw(UsageError, /--source/);
    // The case was the whole slip, and the line said nothing of it.
    expect(() => parseRunArgs(['--source', 'RAPL', 'true'])).to.throw(
      UsageError,
      '--source: expected one of auto, rapl, powermetrics, nvidia-smi, kepler, scaphandre, estimate; did you mean rapl? (got "RAPL")',
    );
    expect(() => parseRunArgs(['--interval', '1ms', 'true'])).to.throw(UsageError, /--interval/);
    expect(() => parseRunArgs(['--otlp', 'localhost', 'true'])).to.throw(UsageError, /--otlp/);
    expect(() => parseRunArgs(['--json'])).to.throw(UsageError, /no command/);
    expect(() => parseRunArgs(['--', ''])).to.throw(UsageError, /^run: the command name is empty/);
    expect(() => parseMonitorArgs(['extra'])).to.throw(UsageError, /unexpected argument/);
    expect(() => parseMonitorArgs(['--duration', 'x'])).to.throw(UsageError, /--duration/);
  });

  // The settings take a whole number of ms (checkSettings), and the meter's timer counts no
  // finer: 4.1m is 245999.99999999997 ms in floating point, and 100.5ms a fraction, which
  // passed --interval's range and then stopped the run with a RangeError naming
  // ENERGY_SAMPLE_INTERVAL_MS, a variable the user never set.
  // A bare number is seconds to --interval, ms to ENERGY_SAMPLE_INTERVAL_MS: `--interval 500`
  // sampled every 8 min 20 s, and run said nothing of it; neither help said what a bare one is.
  it('says a bare --interval of 100 or more is read as seconds, and each help says the unit', () => {
    expect(parseRunArgs(['--interval', '500', 'true']).intervalNote).to.equal(
      '--interval 500 is read as 8 min 20 s: a bare number is seconds (500ms for milliseconds)',
    );
    expect(parseMonitorArgs(['--interval', '100']).intervalNote).to.match(/^--interval 100 is /);
    for (const interval of ['99', '1.5', '500ms', '2m', '120s']) {
      expect(parseRunArgs(['--interval', interval, 'true']), interval).to.not.have.property(
        'intervalNote',
      );
    }
    for (const help of [RUN_HELP, MONITOR_HELP]) {
      expect(help).to.match(/--interval <duration> [^\n]*; a bare number is seconds/);
    }
    expect(MONITOR_HELP).to.match(/--duration <duration> [^\n]*a bare number is\n +seconds/);
  });

  it('gives --interval as a whole number of milliseconds', () => {
    for (const [interval, ms] of [
      ['4.1m', 246_000],
      ['1.001s', 1001],
      ['100.5ms', 101],
      ['0.05s', 50],
      ['50.4ms', 50],
      ['1h', 3_600_000],
    ] as const) {
      expect(parseRunArgs(['--interval', interval, 'true']).intervalMs, interval).to.equal(ms);
    }
  });

  // 49.5ms was rounded to 50 before its range was checked, and taken; -d 0.5ms is refused, not
  // rounded to 1 ms, and ENERGY_SAMPLE_INTERVAL_MS=49.5 too: the range is the value's as given.
  it('checks --interval against its range as given, before it is rounded', () => {
    for (const interval of ['49.5ms', '49.9ms', '0.0495s', '3600000.4ms']) {
      expect(() => parseRunArgs(['--interval', interval, 'true']), interval).to.throw(
        UsageError,
        `--interval: must be between 50ms and 1h (got "${interval}")`,
      );
      expect(() => parseMonitorArgs(['--interval', interval]), interval).to.throw(UsageError);
    }
  });

  // Up to 2^53 was taken: billions of kWh for one request, printed as if it were an estimate.
  it('bounds --output-tokens at 10 million, far over any model output', () => {
    const tokens = (n: string) => parseImpactsArgs(['-m', 'gpt-4o', '--output-tokens', n]);
    expect(tokens('10000000').outputTokens).to.equal(10_000_000);
    expect(() => tokens('10000001')).to.throw(
      UsageError,
      /^--output-tokens: at most 10000000 tokens \(got "10000001"\)$/,
    );
    expect(() => tokens('9007199254740991')).to.throw(UsageError, /at most 10000000/);
    // Past 2^53 it is still a whole number, only a larger one: it was told it was none.
    for (const n of ['9007199254740993', '99999999999999999999', '9'.repeat(400)]) {
      expect(() => tokens(n), n).to.throw(UsageError, /^--output-tokens: at most 10000000 tokens/);
    }
  });

  // node:util's parseArgs explains a value that starts with a dash in three lines; an error
  // is one line on stderr, above the usage.
  // node:util's line ("Option '--interval' argument is ambiguous. Did you forget to specify the
  // option argument for '--interval'? To specify an option argument starting with a dash use
  // '--interval=-XYZ'.") came through as it was, in none of the CLI's words.
  it('says in its own line that the word after an option that takes a value reads as an option', () => {
    for (const [parse, args, message] of [
      [
        parseMonitorArgs,
        ['--interval', '-v'],
        "option '--interval <duration>' needs a value: '-v' after it reads as an option (one that starts with a dash goes as --interval=-v)",
      ],
      [
        parseRunArgs,
        ['--project-name', '-x', '--', 'true'],
        "option '--project-name <name>' needs a value: '-x' after it reads as an option (one that starts with a dash goes as --project-name=-x)",
      ],
      [
        parseImpactsArgs,
        ['-m', 'gpt-4o', '--output-tokens', '--json'],
        "option '-n, --output-tokens <n>' needs a value: '--json' after it reads as an option (one that starts with a dash goes as --output-tokens=--json)",
      ],
      [
        parseRunArgs,
        ['-vz', '-1', '--', 'true'],
        "option '-z, --zone <zone>' needs a value: '-1' after it reads as an option (one that starts with a dash goes as --zone=-1)",
      ],
      [
        parseRunArgs,
        ['-z', '--', 'true'],
        "option '-z, --zone <zone>' needs a value: '--' after it ends the options",
      ],
      [
        parseMonitorArgs,
        ['-d', '-v'],
        "option '-d, --duration <duration>' needs a value: '-v' after it reads as an option (one that starts with a dash goes as --duration=-v)",
      ],
    ] as const) {
      expect(
        usageMessage(() => parse([...args])),
        args.join(' '),
      ).to.equal(message);
    }
  });

  // `-o -`, stdout in most tools, wrote a file named `-` in the current folder, without a word.
  it('refuses -o - as a file name, naming /dev/stdout and ./-', () => {
    for (const args of [['-o', '-'], ['--output=-'], ['-o=-']]) {
      expect(() => parseRunArgs([...args, '--', 'true']), args.join(' ')).to.throw(
        UsageError,
        /^--output: "-" is no file name here: -o \/dev\/stdout for stdout, -o \.\/- for a file named -$/,
      );
      expect(() => parseMonitorArgs(args), args.join(' ')).to.throw(UsageError, /^--output: "-"/);
    }
    expect(parseRunArgs(['-o', './-', '--', 'true']).output).to.equal('./-');
  });

  // `-o=` wrote a file named `=`, and `-o=x.csv` one named `=x.csv`: node:util reads a short
  // option's value as what follows its letter, the `=` in it, where `--output=` reads after it.
  it('reads a short option written -o=VALUE as --output=VALUE, so an empty one is refused', () => {
    expect(() => parseRunArgs(['-o=', '--', 'true'])).to.throw(
      UsageError,
      /^--output: expected a file name$/,
    );
    expect(() => parseRunArgs(['-vo=', '--', 'true'])).to.throw(
      UsageError,
      /^--output: expected a file name$/,
    );
    expect(parseRunArgs(['-o=x.csv', '--', 'true']).output).to.equal('x.csv');
    const grouped = parseRunArgs(['-vo=x.csv', '--', 'true']);
    expect([grouped.output, grouped.verbose]).to.deep.equal(['x.csv', true]);
    expect(parseMonitorArgs(['-z=FR', '-d=5s'])).to.include({ zone: 'FR', durationMs: 5000 });
    expect(parseImpactsArgs(['-m=gpt-4o', '-n=5'])).to.include({
      model: 'gpt-4o',
      outputTokens: 5,
    });
    expect(() => parseImpactsArgs(['-m=', '-n', '5'])).to.throw(UsageError, /--model is required/);
    // A value that only holds an `=` further on is as given.
    expect(parseRunArgs(['-oa=b.csv', '--', 'true']).output).to.equal('a=b.csv');
    expect(parseRunArgs(['-o', '=x.csv', '--', 'true']).output).to.equal('=x.csv');
  });

  // `-v=1` read as `-v`, `-=`, `-1` (node:util's grouping), said as `unknown option '-='`, and
  // `--verbose=1` in node:util's words: a flag written with a value is said as one, either way.
  it('says a flag written with a value (-v=1, -hv=1, --json=1) takes none', () => {
    for (const [parse, args, message] of [
      [parseRunArgs, ['-v=1', '--', 'true'], `option '-v, --verbose' takes no value (got "1")`],
      [parseRunArgs, ['-v=', '--', 'true'], `option '-v, --verbose' takes no value (got "")`],
      [parseRunArgs, ['-hv=1', '--', 'true'], `option '-v, --verbose' takes no value (got "1")`],
      [
        parseRunArgs,
        ['--verbose=1', '--', 'true'],
        `option '-v, --verbose' takes no value (got "1")`,
      ],
      [parseMonitorArgs, ['--json=yes'], `option '--json' takes no value (got "yes")`],
      [parseMonitorArgs, ['-vh=x'], `option '-h, --help' takes no value (got "x")`],
      [parseImpactsArgs, ['-h=1'], `option '-h, --help' takes no value (got "1")`],
    ] as const) {
      expect(
        usageMessage(() => parse([...args])),
        args.join(' '),
      ).to.equal(message);
    }
    // An unknown letter before the `=` is said as unknown, as it is alone.
    expect(() => parseRunArgs(['-vx=1', '--', 'true'])).to.throw(
      UsageError,
      /^unknown option '-x'$/,
    );
    // A value that starts with `=`: after the option's own `=`, or as the next word.
    expect(parseRunArgs(['-vo==x.csv', '--', 'true']).output).to.equal('=x.csv');
    expect(parseRunArgs(['-vo', '=x.csv', '--', 'true']).output).to.equal('=x.csv');
  });

  // node:util's line said `Option '-z, --zone <value>' argument missing`, where --help says
  // <zone>, <file>, <n>: the value's name is the help's.
  it("names a missing value as the command's --help does", () => {
    for (const [parse, args, message] of [
      [parseRunArgs, ['--zone'], "option '-z, --zone <zone>' needs a value"],
      [parseRunArgs, ['-o'], "option '-o, --output <file>' needs a value"],
      [parseRunArgs, ['-vz'], "option '-z, --zone <zone>' needs a value"],
      [parseRunArgs, ['--otlp'], "option '--otlp <url>' needs a value"],
      [parseMonitorArgs, ['-d'], "option '-d, --duration <duration>' needs a value"],
      [parseMonitorArgs, ['--interval'], "option '--interval <duration>' needs a value"],
      [parseImpactsArgs, ['-m', 'x', '-n'], "option '-n, --output-tokens <n>' needs a value"],
      [parseImpactsArgs, ['-z'], "option '-z, --zone <alpha3>' needs a value"],
    ] as const) {
      expect(() => parse([...args]), args.join(' ')).to.throw(UsageError, message);
    }
    for (const [help, option] of [
      [RUN_HELP, '-z, --zone <zone>'],
      [MONITOR_HELP, '-d, --duration <duration>'],
      [IMPACTS_HELP, '-n, --output-tokens <n>'],
    ] as const) {
      expect(help).to.include(option);
    }
  });

  it('never echoes the password of a bad --otlp URL', () => {
    for (const url of [
      'http://bob:s3cretPW@ho st',
      'http://bob:s3cret PW@host',
      'ftp://bob:s3cretPW@host',
      'bob:s3cretPW@host:4318',
    ]) {
      expect(() => parseRunArgs(['--otlp', url, 'true']), url)
        .to.throw(UsageError, /--otlp: .*\(got "(\w+:\/\/)?\[redacted\]@ho ?st/)
        .with.property('message')
        .that.does.not.contain('s3cret');
    }
  });

  it('never echoes the secret-named query or fragment values of a bad --otlp URL', () => {
    for (const url of [
      'http://collector:99999/?api_key=SECRET1',
      'ftp://collector/?api_key=SECRET1#access_token=SECRET2',
      'collector:4318/#Token=SECRET2',
    ]) {
      expect(() => parseRunArgs(['--otlp', url, 'true']), url)
        .to.throw(UsageError, /^--otlp: expected an http\(s\) URL/)
        .with.property('message')
        .that.does.not.match(/SECRET/);
    }
    // The rest says which collector it was.
    expect(() => parseRunArgs(['--otlp', 'ftp://collector/?tenant=acme-7&key=SECRET1', 'true']))
      .to.throw(UsageError)
      .with.property('message')
      .that.contains('(got "ftp://collector/?tenant=acme-7&key=[redacted]")');
  });

  it('refuses an --otlp URL that the URL parser refuses, without its password', () => {
    for (const url of ['http://bob:s3cretPW@host:99999', 'http://bob:s3cretPW@[::1']) {
      expect(() => parseRunArgs(['--otlp', url, 'true']), url)
        .to.throw(UsageError, /^--otlp: expected an http\(s\) URL/)
        .with.property('message')
        .that.does.not.contain('s3cret');
    }
  });

  it('refuses a --duration longer than a timer can wait (about 24.8 days)', () => {
    expect(parseMonitorArgs(['--duration', '596h']).durationMs).to.equal(596 * 3_600_000);
    for (const d of ['597h', '600h', '9999999']) {
      expect(() => parseMonitorArgs(['--duration', d]), d).to.throw(
        UsageError,
        /^--duration: must be at most 596h \(got "\w+"\)$/,
      );
    }
  });

  it('says a negative number is one the option does not take, not that it looks like an option', () => {
    for (const [parse, args, message] of [
      [
        parseRunArgs,
        ['--interval', '-1', '--', 'true'],
        /^--interval: expected a duration .*\(got "-1"\)$/,
      ],
      [parseMonitorArgs, ['-d', '-5s'], /^--duration: expected a duration .*\(got "-5s"\)$/],
      [
        parseImpactsArgs,
        ['-m', 'x', '-n', '-5'],
        /^--output-tokens: expected a whole number of tokens \(got "-5"\)$/,
      ],
      [
        parseImpactsArgs,
        ['-m', 'x', '-n', '5', '--latency', '-.5'],
        /^--latency: expected seconds such as 2.5 \(got "-.5"\)$/,
      ],
    ] as const) {
      expect(() => parse([...args]), args.join(' ')).to.throw(UsageError, message);
    }
    // A forgotten value stays one: --zone takes no option for its value.
    expect(() => parseRunArgs(['--zone', '--json', '--', 'true'])).to.throw(
      UsageError,
      /^option '-z, --zone <zone>' needs a value: '--json' after it reads as an option/,
    );
    expect(() => parseRunArgs(['-vz', '-1', '--', 'true'])).to.throw(UsageError, /needs a value/);
  });

  it('refuses a --duration shorter than a timer can wait (1 ms)', () => {
    expect(parseMonitorArgs(['--duration', '1ms']).durationMs).to.equal(1);
    for (const d of ['0.0001ms', '0.5ms', '0.0001']) {
      expect(() => parseMonitorArgs(['--duration', d]), d).to.throw(
        UsageError,
        /^--duration: must be at least 1ms \(got "[\w.]+"\)$/,
      );
    }
  });

  // `-m openai/` (a variable left empty after the slash) answered `Could not find model `` for
  // openai provider.` and exit 1, as if the catalog lacked a model named by nothing.
  it('refuses an impacts --model with nothing after its provider', () => {
    for (const model of ['openai/', 'openai//', ' openai/ ']) {
      expect(() => parseImpactsArgs(['-m', model, '-n', '5']), model).to.throw(
        UsageError,
        /^--model: no model name after the provider \(got ".*"; e\.g\. --model openai\/gpt-4o\)$/,
      );
    }
    expect(parseImpactsArgs(['-m', 'openai/gpt-4o', '-n', '5']).model).to.equal('openai/gpt-4o');
  });

  // `-m /gpt-4o` (a variable left empty before the slash) answered `Could not find model` and
  // exit 1, as if the catalog lacked a model of a provider named by nothing.
  it('refuses an impacts --model with nothing before its slash', () => {
    for (const model of ['/gpt-4o', ' /gpt-4o', '//gpt-4o']) {
      expect(() => parseImpactsArgs(['-m', model, '-n', '5']), model).to.throw(
        UsageError,
        /^--model: no provider before the model name \(got ".*"; e\.g\. --model openai\/gpt-4o\)$/,
      );
    }
    expect(parseImpactsArgs(['-m', 'gpt-4o', '-n', '5']).model).to.equal('gpt-4o');
  });

  // `-m a//b` (a variable left empty between two slashes) answered `Could not find model `/b``
  // and exit 1, where an empty part at either end is a usage error.
  it('refuses an impacts --model with an empty part between its slashes', () => {
    for (const [model, message] of [
      [
        'openai//gpt-4o',
        /^--model: an empty name between two slashes \(got "openai\/\/gpt-4o"; e\.g\. --model openai\/gpt-4o\)$/,
      ],
      ['huggingface_hub//Llama-3-8B', /^--model: an empty name between two slashes/],
      ['huggingface_hub/meta-llama//Llama-3-8B', /^--model: an empty name between two slashes/],
      ['openai/ /gpt-4o', /^--model: an empty name between two slashes/],
      ['a//b', /^--model: an empty name between two slashes/],
      [' ', /^--model: no model name \(got " "; e\.g\. --model openai\/gpt-4o\)$/],
    ] as const) {
      expect(() => parseImpactsArgs(['-m', model, '-n', '5']), model).to.throw(UsageError, message);
    }
    // A model's own name may hold a slash, as a Hugging Face repository's does.
    const id = 'huggingface_hub/meta-llama/CodeLlama-13b-hf';
    expect(parseImpactsArgs(['-m', id, '-n', '5']).model).to.equal(id);
  });

  // `-p " "` or `-z " "` (a variable of spaces) went to the catalog and exit 1 (`Could not find
  // model `gpt-4o` for   provider`), where an empty one, and a blank --model, are usage errors.
  it('refuses an impacts --provider or --zone of spaces alone, as an empty one', () => {
    const base = ['-m', 'gpt-4o', '-n', '5'];
    for (const blank of ['', ' ', '\t ']) {
      expect(() => parseImpactsArgs([...base, '-p', blank]), `-p "${blank}"`).to.throw(
        UsageError,
        /^--provider: expected a provider such as openai$/,
      );
      expect(() => parseImpactsArgs([...base, '-z', blank]), `-z "${blank}"`).to.throw(
        UsageError,
        /^--zone: expected an alpha-3 zone such as FRA$/,
      );
    }
    expect(parseImpactsArgs([...base, '-p', 'openai', '-z', 'FRA'])).to.include({
      provider: 'openai',
      zone: 'FRA',
    });
  });

  it('refuses an impacts --latency of 0 s, which no request takes, as it does a malformed one', () => {
    const base = ['-m', 'openai/gpt-4o', '-n', '100'];
    for (const latency of ['0', '0.0', '00.000']) {
      expect(() => parseImpactsArgs([...base, '--latency', latency]), latency).to.throw(
        UsageError,
        /^--latency: must be more than 0 s, or left out where not measured \(got "/,
      );
    }
    expect(parseImpactsArgs([...base, '--latency', '0.001']).latencySeconds).to.equal(0.001);
  });

  // `.5` is how many write half a second (Python's float and Number() take it): it was refused
  // as no seconds.
  it('takes an impacts --latency written without its leading 0 (.5)', () => {
    const base = ['-m', 'openai/gpt-4o', '-n', '100'];
    expect(parseImpactsArgs([...base, '--latency', '.5']).latencySeconds).to.equal(0.5);
    expect(() => parseImpactsArgs([...base, '--latency', '.'])).to.throw(
      UsageError,
      /^--latency: expected seconds such as 2.5 \(got "\."\)$/,
    );
    expect(() => parseImpactsArgs([...base, '--latency', '.0'])).to.throw(
      UsageError,
      /^--latency: must be more than 0 s/,
    );
  });

  it('accepts --help without a command', () => {
    expect(parseRunArgs(['--help']).help).to.equal(true);
    expect(parseMonitorArgs(['-h']).help).to.equal(true);
    expect(parseMonitorArgs(['-d', '3s']).durationMs).to.equal(3000);
  });

  // monitor --help printed its --duration after the settings paragraph, apart from the options,
  // and neither help gave --interval's default (1 s for run, 10 s for monitor).
  it("lists each command's options together in its --help, with the interval's default", () => {
    const common = ['zone', 'output', 'otlp', 'json', 'project-name', 'source', 'interval'];
    for (const [help, options, interval] of [
      [RUN_HELP, [...common, 'verbose', 'help'], '1s'],
      [MONITOR_HELP, [...common, 'duration', 'verbose', 'help'], '10s'],
    ] as const) {
      const block = help.slice(
        help.indexOf('Options:\n'),
        help.indexOf('\n\n', help.indexOf('Options:')),
      );
      const listed = [...block.matchAll(/^ {2}(?:-\w, )? *--([\w-]+)/gm)].map((m) => m[1]);
      expect(listed, help.split('\n')[0]).to.deep.equal(options);
      expect(block).to.match(
        new RegExp(`--interval [^-]*\\(default: ENERGY_SAMPLE_INTERVAL_MS or ${interval}\\)`),
      );
      expect(help.slice(help.indexOf(block) + block.length)).to.match(/^\n\nSettings from/);
      expect(help).to.include('EMBODIED_*');
    }
  });

  // monitor's help said exit 1 where --json "cannot be written", impacts' where stdout cannot:
  // a reader that goes away (`| head`, EPIPE) exits 0 (cli.test.ts), as the README says.
  it("says in monitor's and impacts' help that a stdout reader that goes away is no error", () => {
    for (const help of [MONITOR_HELP, IMPACTS_HELP]) {
      expect(help.replace(/\s+/g, ' ')).to.include(
        ', also where the reader of stdout goes away (| head); 1 when',
      );
    }
  });

  // run's and monitor's --source line was 142 columns, --otlp and --interval 105: a terminal
  // of 100 broke them mid-word, where impacts' help is wrapped to its options' column.
  it('keeps every line of every --help within 100 columns', () => {
    for (const help of [MAIN_HELP, RUN_HELP, MONITOR_HELP, IMPACTS_HELP]) {
      const long = help.split('\n').filter((line) => line.length > 100);
      expect(long, help.split('\n')[0]).to.deep.equal([]);
    }
  });

  // node:util's message told a mistyped option to go after '--' (`'-- "-x"`, its quote never
  // closed), where monitor and impacts then refuse it as an argument, and run takes it for the
  // command.
  it('says an option is unknown in one plain sentence, with the option meant where case differs', () => {
    const message = (parse: () => unknown) => {
      try {
        parse();
      } catch (err) {
        if (err instanceof UsageError) return err.message;
        throw err;
      }
      return expect.fail('no usage error');
    };
    expect(message(() => parseMonitorArgs(['-x']))).to.equal("unknown option '-x'");
    expect(message(() => parseMonitorArgs(['-vx']))).to.equal("unknown option '-x'");
    expect(message(() => parseRunArgs(['--bogus', '--', 'true']))).to.equal(
      "unknown option '--bogus'",
    );
    expect(message(() => parseImpactsArgs(['--Model', 'gpt-4o', '-n', '5']))).to.equal(
      "unknown option '--Model' (did you mean --model?)",
    );
    expect(message(() => parseImpactsArgs(['--JSON']))).to.equal(
      "unknown option '--JSON' (did you mean --json?)",
    );
    // A short option's case too: `-N 5` for `-n 5`, `-Z DE` for `-z DE`, grouped or not.
    expect(message(() => parseImpactsArgs(['-m', 'gpt-4o', '-N', '5']))).to.equal(
      "unknown option '-N' (did you mean -n?)",
    );
    expect(message(() => parseMonitorArgs(['-vZ', 'DE']))).to.equal(
      "unknown option '-Z' (did you mean -z?)",
    );
    // A slip of a letter (missed, added, swapped), or the start of the name: the API's matcher.
    expect(message(() => parseMonitorArgs(['--jsno']))).to.equal(
      "unknown option '--jsno' (did you mean --json?)",
    );
    expect(message(() => parseRunArgs(['--inteval', '5s', '--', 'true']))).to.equal(
      "unknown option '--inteval' (did you mean --interval?)",
    );
    expect(message(() => parseMonitorArgs(['--inter', '5s']))).to.equal(
      "unknown option '--inter' (did you mean --interval?)",
    );
  });

  it('maps a death by signal N to 128+N, as shells do', () => {
    expect(exitCodeOf(3, null)).to.equal(3);
    expect(exitCodeOf(null, 'SIGTERM')).to.equal(143);
    expect(exitCodeOf(null, 'SIGKILL')).to.equal(137);
    expect(exitCodeOf(null, 'SIGINT')).to.equal(130);
  });

  it("ends by the command's signal where that dumps no core, else by 128+N", () => {
    expect(endingOf(3, null)).to.deep.equal({ code: 3 });
    expect(endingOf(null, 'SIGINT')).to.deep.equal({ code: 130, signal: 'SIGINT' });
    expect(endingOf(null, 'SIGTERM')).to.deep.equal({ code: 143, signal: 'SIGTERM' });
    expect(endingOf(null, 'SIGHUP')).to.deep.equal({ code: 129, signal: 'SIGHUP' });
    expect(endingOf(null, 'SIGKILL')).to.deep.equal({ code: 137, signal: 'SIGKILL' });
    // Raised in carbonscope they would dump its core; SIGUSR1 would start Node's inspector.
    for (const signal of ['SIGQUIT', 'SIGSEGV', 'SIGABRT', 'SIGUSR1'] as const) {
      expect(endingOf(null, signal), signal).to.not.have.property('signal');
    }
  });

  it('adds the OTLP metrics path to a bare endpoint only', () => {
    expect(otlpMetricsUrl('http://collector:4318')).to.equal('http://collector:4318/v1/metrics');
    expect(otlpMetricsUrl('http://collector:4318/custom/path')).to.equal(
      'http://collector:4318/custom/path',
    );
  });

  // `carbonscope -z FR run`: the option's value stood between it and the command, and the line
  // said only `before a command: --version or --help`, where `-z=FR run` was sent after run.
  it('sends an option before the command after it, its value between them or not', () => {
    const after = (option: string, command: string) =>
      `unknown option '${option}' (an option of ${command} goes after it: carbonscope ${command} ${option} ...)`;
    expect(unknownCommand('-z', ['FR', 'run', '--', 'true'])).to.equal(after('-z', 'run'));
    expect(unknownCommand('--zone', ['FR', 'monitor'])).to.equal(after('--zone', 'monitor'));
    expect(unknownCommand('-n', ['5', 'impacts'])).to.equal(after('-n', 'impacts'));
    // Named without its value, a URL's password in it.
    expect(unknownCommand('--otlp', ['https://u:pw@h', 'monitor'])).to.equal(
      after('--otlp', 'monitor'),
    );
    expect(unknownCommand('-d', ['5s', 'monitor'])).to.equal(after('-d', 'monitor'));
    // A flag takes no value, an inline value is its own: the word after is no option's value.
    const none = (option: string) =>
      `unknown option '${option}' (before a command: --version or --help)`;
    expect(unknownCommand('--json', ['x', 'run'])).to.equal(none('--json'));
    expect(unknownCommand('--zone=FR', ['x', 'run'])).to.equal(none('--zone=FR'));
    expect(unknownCommand('-zFR', ['x', 'run'])).to.equal(none('-zFR'));
    // monitor's -d is no option of run.
    expect(unknownCommand('-d', ['5s', 'run'])).to.equal(none('-d'));
  });

  // The command's own credentials, printed in the summary and --json's argv: only a URL's were
  // masked, so `curl -H 'Authorization: Bearer …'` or `--token=…` went out as written.
  describe('argvSecrets', () => {
    it('takes the values of options and headers whose names say they are secret', () => {
      const args = [
        'curl',
        '--api-key=K-0123456789',
        '--password',
        'hunter2hunter2',
        '-H',
        'Authorization: Bearer tok-0123456789',
        '-H',
        'x-api-key:  abcdefghijkl ',
        'https://user:pw-0123456@example.com/?token=q-0123456789',
      ];
      expect(argvSecrets(args)).to.include.members([
        'K-0123456789',
        'hunter2hunter2',
        'Bearer tok-0123456789',
        'tok-0123456789',
        'abcdefghijkl',
        'pw-0123456',
        'q-0123456789',
      ]);
    });

    it('leaves short values, other options and what follows a flag given its value', () => {
      const args = [
        '--token=abc',
        '--passes',
        '3',
        '--key=value-of-it',
        '--output',
        'x-0123456789',
      ];
      expect(argvSecrets(args)).to.deep.equal(['value-of-it']);
      expect(argvSecrets(['--secret', '--verbose', 'file-0123456789'])).to.deep.equal([]);
      expect(argvSecrets(['Content-Type: application/json'])).to.deep.equal([]);
      expect(argvSecrets(['--token'])).to.deep.equal([]);
    });
  });
});
