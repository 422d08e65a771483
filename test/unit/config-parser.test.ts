import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  MAX_BLOCK_DEPTH,
  parseConfigFile,
  parseConfigTree,
  type ConfigDirective,
  type IncludeReader,
} from '../../src/config/parser.js';

function parse(text: string, reader?: IncludeReader, cwd = '/cwd'): ConfigDirective {
  return parseConfigTree(text, 't.conf', { readInclude: reader ?? (() => null), cwd });
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

/** Compact view: [name, args, children] without positions. */
type Shape = [string, string[], Shape[]];
function shape(d: ConfigDirective): Shape[] {
  return d.children.map((c) => [c.name, c.args, shape(c)]);
}

function memReader(files: Record<string, string>): { reader: IncludeReader; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    reader: (p) => {
      reads.push(p);
      return Object.prototype.hasOwnProperty.call(files, p) ? files[p] : null;
    },
  };
}

describe('config grammar', () => {
  test('directives, args and line numbers', () => {
    const root = parse('listen 1935 19350;\n\nmax_connections\t1000;\r\npid ./objs/srs.pid;');
    assert.equal(root.name, '');
    assert.deepEqual(shape(root), [
      ['listen', ['1935', '19350'], []],
      ['max_connections', ['1000'], []],
      ['pid', ['./objs/srs.pid'], []],
    ]);
    assert.deepEqual(
      root.children.map((c) => [c.file, c.line]),
      [
        ['t.conf', 1],
        ['t.conf', 3],
        ['t.conf', 4],
      ],
    );
  });

  test('blocks, block args, nesting and "play{" without a space', () => {
    const root = parse('vhost v.com {\n  play{\n    gop_cache off;\n  }\n  transcode live/x {\n  }\n}\n');
    assert.deepEqual(shape(root), [
      [
        'vhost',
        ['v.com'],
        [
          ['play', [], [['gop_cache', ['off'], []]]],
          ['transcode', ['live/x'], []],
        ],
      ],
    ]);
    assert.equal(root.children[0].children[0].children[0].line, 3);
  });

  test('several directives on one line and a block on one line', () => {
    const root = parse('a 1; b 2; c { d 3; }');
    assert.deepEqual(shape(root), [
      ['a', ['1'], []],
      ['b', ['2'], []],
      ['c', [], [['d', ['3'], []]]],
    ]);
  });

  test('comments start only at a token start', () => {
    const root = parse('# full line\nlisten 1935; # trailing ; { }\nurl a#b;\n  #indented\nx "#notcomment";');
    assert.deepEqual(shape(root), [
      ['listen', ['1935'], []],
      ['url', ['a#b'], []],
      ['x', ['#notcomment'], []],
    ]);
  });

  test('quotes group spaces, ";" and "{"; no escapes; empty quotes dropped', () => {
    const root = parse(`a "x y;z{" 'p q' "" '';\nb "it's";\nc 'say "hi"' {\n}\nd "v"{ }`);
    assert.deepEqual(shape(root), [
      ['a', ['x y;z{', 'p q'], []],
      ['b', ["it's"], []],
      ['c', ['say "hi"'], []],
      ['d', ['v'], []],
    ]);
  });

  test('quote characters inside an unquoted word are literal', () => {
    assert.deepEqual(shape(parse('a b"c d}e;')), [['a', ['b"c', 'd}e'], []]]);
  });

  test('CRLF files parse', () => {
    const root = parse('listen 1935;\r\nvhost a {\r\n  enabled on;\r\n}\r\n');
    assert.deepEqual(shape(root), [
      ['listen', ['1935'], []],
      ['vhost', ['a'], [['enabled', ['on'], []]]],
    ]);
    assert.equal(root.children[1].children[0].line, 3);
  });

  test('empty input and comment-only input give an empty tree', () => {
    assert.equal(parse('').children.length, 0);
    assert.equal(parse('  \n# nothing\n\t\n').children.length, 0);
  });

  const bad: [string, string, string][] = [
    ['directive spans lines', 'listen 1935\n;', 't.conf:1: unexpected new line, expecting ";" or "{"'],
    ['name then newline', 'listen\n1935;', 't.conf:1: unexpected new line, expecting ";" or "{"'],
    ['bare CR while pending', 'a b\r;', 't.conf:1: unexpected new line, expecting ";" or "{"'],
    ['comment swallows the ;', 'a;\nlisten 1935 # x ;\n', 't.conf:2: unexpected new line, expecting ";" or "{"'],
    ['lone ;', 'a 1;\n ;', 't.conf:2: unexpected ";"'],
    ['lone {', '{ a; }', 't.conf:1: unexpected "{"'],
    ['stray } at top level', 'a 1;\n}\n', 't.conf:2: unexpected "}"'],
    ['} with pending args', 'v {\n a 1 }\n', 't.conf:2: unexpected "}"'],
    ['EOF with pending args', 'a 1;\nlisten 1935', 't.conf:2: unexpected end of file, expecting ";" or "}"'],
    [
      'EOF inside a block',
      'vhost a {\n  play {\n  }\n',
      't.conf:4: unexpected end of file, expecting "}" to close "vhost" opened at line 1',
    ],
    ['EOF inside quotes', 'a "b', 't.conf:1: unexpected end of file inside a quoted string'],
    ['newline inside quotes', 'a "b\nc";', 't.conf:1: unexpected new line, expecting ";" or "{"'],
    ['text glued after a quote', 'a "b"c;', 't.conf:1: expecting a space, ";" or "{" after a quoted string'],
    ['include as a block', 'include x.conf {\n}', 't.conf:1: "include" cannot open a block'],
    ['include without files', 'include;', 't.conf:1: "include" requires at least one file'],
  ];
  for (const [title, text, message] of bad) {
    test(`error: ${title}`, () => {
      const e = errorOf(() => parse(text));
      assert.equal(e.message, message);
      assert.equal(e.file, 't.conf');
      assert.equal(`${e.file}:${e.line}: ${e.reason}`, message);
    });
  }

  test('deep nesting is refused instead of overflowing the stack', () => {
    const deep = 'a {'.repeat(MAX_BLOCK_DEPTH + 1) + '}'.repeat(MAX_BLOCK_DEPTH + 1);
    assert.match(errorOf(() => parse(deep)).message, /^t\.conf:1: blocks nested deeper than 64 levels$/);
    const ok = 'a {'.repeat(MAX_BLOCK_DEPTH) + '}'.repeat(MAX_BLOCK_DEPTH);
    assert.equal(parse(ok).children.length, 1);
    const huge = 'a {'.repeat(100000);
    assert.ok(errorOf(() => parse(huge)) instanceof ConfigError);
  });
});

describe('config include', () => {
  test('spliced in place at root and inside blocks, nested, relative to the including file', () => {
    const { reader } = memReader({
      '/etc/srs/main.conf': 'include vhosts/all.conf;\nlisten 1935;',
      '/etc/srs/vhosts/all.conf': 'vhost a {\n  include play.conf;\n}\n',
      '/etc/srs/vhosts/play.conf': 'play {\n  gop_cache off;\n}\n',
    });
    const root = parseConfigFile('/etc/srs/main.conf', { readInclude: reader, cwd: '/cwd' });
    assert.deepEqual(shape(root), [
      ['vhost', ['a'], [['play', [], [['gop_cache', ['off'], []]]]]],
      ['listen', ['1935'], []],
    ]);
    const play = root.children[0].children[0];
    assert.equal(play.file, '/etc/srs/vhosts/play.conf');
    assert.equal(play.line, 1);
    assert.equal(root.children[0].file, '/etc/srs/vhosts/all.conf');
  });

  test('several files in one include, in order', () => {
    const { reader } = memReader({ '/cwd/a.conf': 'a 1;', '/cwd/b.conf': 'b 2;' });
    assert.deepEqual(shape(parse('x; include a.conf b.conf; y;', reader)), [
      ['x', [], []],
      ['a', ['1'], []],
      ['b', ['2'], []],
      ['y', [], []],
    ]);
  });

  test('falls back to the process working directory', () => {
    const { reader, reads } = memReader({
      '/etc/srs/main.conf': 'include conf/extra.conf;',
      '/cwd/conf/extra.conf': 'listen 1935;',
    });
    const root = parseConfigFile('/etc/srs/main.conf', { readInclude: reader, cwd: '/cwd' });
    assert.deepEqual(shape(root), [['listen', ['1935'], []]]);
    assert.deepEqual(reads.slice(1), ['/etc/srs/conf/extra.conf', '/cwd/conf/extra.conf']);
  });

  test('absolute include path is used as is', () => {
    const { reader } = memReader({ '/abs/x.conf': 'x 1;' });
    assert.deepEqual(shape(parse('include /abs/x.conf;', reader)), [['x', ['1'], []]]);
  });

  test('missing include file names the include line and the tried paths', () => {
    const e = errorOf(() => parse('a 1;\n  include nope.conf;\n', memReader({}).reader));
    assert.equal(e.message, 't.conf:2: include file "nope.conf" not found (tried /cwd/nope.conf)');
  });

  test('include cycles are detected', () => {
    const { reader } = memReader({
      '/cwd/a.conf': 'include b.conf;',
      '/cwd/b.conf': 'x 1;\ninclude a.conf;',
    });
    const e = errorOf(() => parseConfigFile('a.conf', { readInclude: reader, cwd: '/cwd' }));
    assert.equal(e.message, 'b.conf:2: include cycle: a.conf -> b.conf -> a.conf');
    const self = memReader({ '/cwd/s.conf': 'include s.conf;' });
    assert.equal(
      errorOf(() => parseConfigFile('s.conf', { readInclude: self.reader, cwd: '/cwd' })).message,
      's.conf:1: include cycle: s.conf -> s.conf',
    );
  });

  test('the same file may be included twice when there is no cycle', () => {
    const { reader } = memReader({ '/cwd/x.conf': 'x 1;' });
    assert.equal(parse('include x.conf;\nv { include x.conf; }', reader).children.length, 2);
  });

  test('an included file must be complete on its own; errors name that file', () => {
    const { reader } = memReader({ '/cwd/half.conf': 'vhost a {\n' });
    assert.equal(
      errorOf(() => parse('include half.conf;\n}', reader)).message,
      'half.conf:2: unexpected end of file, expecting "}" to close "vhost" opened at line 1',
    );
    const closer = memReader({ '/cwd/closer.conf': 'a 1;\n}\n' });
    assert.equal(errorOf(() => parse('v {\ninclude closer.conf;\n}', closer.reader)).message, 'closer.conf:2: unexpected "}"');
  });

  test('real files on disk, relative include from a subdirectory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-conf-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'main.conf'), 'listen 1935;\ninclude sub/v.conf;\n');
      writeFileSync(join(dir, 'sub', 'v.conf'), 'vhost x {\n  include p.conf;\n}\n');
      writeFileSync(join(dir, 'sub', 'p.conf'), 'play { queue_length 5; }\n');
      const root = parseConfigFile(join(dir, 'main.conf'));
      assert.deepEqual(shape(root), [
        ['listen', ['1935'], []],
        ['vhost', ['x'], [['play', [], [['queue_length', ['5'], []]]]]],
      ]);
      assert.equal(
        errorOf(() => parseConfigFile(join(dir, 'missing.conf'))).message,
        `${join(dir, 'missing.conf')}:0: config file not found`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config parser fuzz', () => {
  const alphabet = ['a', 'b', ' ', '\t', '\n', '\r', ';', '{', '}', '#', '"', "'", 'include', 'x.conf', 'vhost', '1935'];
  const seed = 'listen 1935;\nvhost a {\n  play { gop_cache "off"; } # c\n  hls { hls_path \'./x y\'; }\n}\ninclude x.conf;\n';

  function rng(seed0: number): () => number {
    let s = seed0 >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  test('random and mutated input either parses or throws ConfigError, quickly', () => {
    const rand = rng(12345);
    const reader: IncludeReader = (p) => (p.endsWith('x.conf') ? 'x 1;\ninclude x.conf;' : null);
    const started = Date.now();
    for (let i = 0; i < 3000; i++) {
      let text: string;
      if (i % 2 === 0) {
        const n = Math.floor(rand() * 60);
        text = '';
        for (let j = 0; j < n; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      } else {
        const chars = seed.split('');
        const edits = 1 + Math.floor(rand() * 4);
        for (let j = 0; j < edits; j++) {
          const at = Math.floor(rand() * chars.length);
          const op = rand();
          if (op < 0.33) chars.splice(at, 1);
          else if (op < 0.66) chars.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)]);
          else chars[at] = String.fromCharCode(Math.floor(rand() * 128));
        }
        text = chars.join('');
      }
      try {
        const root = parseConfigTree(text, 'f.conf', { readInclude: reader, cwd: '/cwd' });
        assert.equal(root.name, '');
      } catch (e) {
        assert.ok(e instanceof ConfigError, `unexpected ${String(e)} for ${JSON.stringify(text)}`);
        assert.match(e.message, /^[^:]+:\d+: .+/);
      }
    }
    assert.ok(Date.now() - started < 5000);
  });
});
