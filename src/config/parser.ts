// Tokenizer and parser for SRS's nginx-like config grammar (contract §4.1, §4.2).
//
// The grammar is stricter than nginx: a directive must fit on one line, `#` opens
// a comment only where a token could start, quotes have no escapes, and `include`
// splices other files in place at any nesting level.
//
// include paths: an absolute path is used as is; a relative path is tried first
// against the directory of the file that contains the `include`, then against the
// process working directory (SRS itself only uses the cwd; trying the including
// file's directory first makes config trees relocatable and still accepts every
// SRS layout, since SRS configs are written relative to the cwd).

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';

/** One directive of the config tree. The root of a parsed file has `name === ''`. */
export interface ConfigDirective {
  name: string;
  args: string[];
  children: ConfigDirective[];
  file: string;
  line: number;
}

/**
 * A config problem at a known place. `message` is exactly `file:line: reason`
 * (line 0 means "the file as a whole", e.g. it cannot be read or is empty).
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly reason: string;

  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** Reads a file for `include`; returns null when the file does not exist. */
export type IncludeReader = (absolutePath: string) => string | null;

/** Reads from disk; ENOENT/ENOTDIR become null so the next candidate path is tried. */
const fsIncludeReader: IncludeReader = (absolutePath) => {
  try {
    return readFileSync(absolutePath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
};

export interface ParseOptions {
  /** Reader for included files (default: the file system). */
  readInclude?: IncludeReader;
  /** Directory used as the second candidate for relative include paths (default: process.cwd()). */
  cwd?: string;
}

/** Guards against pathological input: a stack overflow is not a config error message. */
export const MAX_BLOCK_DEPTH = 64;
const MAX_INCLUDE_DEPTH = 16;

type StatementEnd = 'entire' | 'block-start' | 'block-end' | 'eof';

interface Statement {
  args: string[];
  end: StatementEnd;
  /** Line of the first token (or of the `}` / EOF). */
  line: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const SEMI = 0x3b;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const SHARP = 0x23;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

const EXPECT_END = 'expecting ";" or "}"';

/** Splits one file's text into statements: `args ;`, `args {`, `}` or EOF. */
class Lexer {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  get currentLine(): number {
    return this.line;
  }

  next(): Statement {
    const text = this.text;
    const args: string[] = [];
    let startLine = 0;
    let wordStart = -1; // index of the unquoted word being read
    let quote = 0; // the quote char code while inside quotes
    let quoteStart = 0;
    let needSpace = false; // just closed a quote
    let comment = false;

    for (;;) {
      if (this.pos >= text.length) {
        if (quote !== 0) throw this.error(this.line, 'unexpected end of file inside a quoted string');
        if (args.length > 0 || wordStart >= 0) {
          throw this.error(this.line, `unexpected end of file, ${EXPECT_END}`);
        }
        return { args, end: 'eof', line: this.line };
      }
      const ch = text.charCodeAt(this.pos++);

      if (ch === LF || ch === CR) {
        // Directives cannot span lines (SRS rejects a newline while tokens are pending).
        if (args.length > 0 || wordStart >= 0 || quote !== 0) {
          throw this.error(this.line, 'unexpected new line, expecting ";" or "{"');
        }
        if (ch === LF) this.line++;
        comment = false;
        needSpace = false;
        continue;
      }
      if (comment) continue;

      if (quote !== 0) {
        if (ch === quote) {
          const word = text.slice(quoteStart, this.pos - 1);
          if (word.length > 0) args.push(word); // SRS drops empty quoted strings
          quote = 0;
          needSpace = true;
        }
        continue;
      }

      if (wordStart >= 0) {
        if (ch === SPACE || ch === TAB) {
          args.push(text.slice(wordStart, this.pos - 1));
          wordStart = -1;
        } else if (ch === SEMI || ch === LBRACE) {
          args.push(text.slice(wordStart, this.pos - 1));
          return { args, end: ch === SEMI ? 'entire' : 'block-start', line: startLine };
        }
        // Any other char (including `#`, `}` and quotes) is part of the word.
        continue;
      }

      if (needSpace) {
        needSpace = false;
        if (ch !== SPACE && ch !== TAB && ch !== SEMI && ch !== LBRACE) {
          throw this.error(this.line, 'expecting a space, ";" or "{" after a quoted string');
        }
      }
      if (ch === SPACE || ch === TAB) continue;

      switch (ch) {
        case SEMI:
          if (args.length === 0) throw this.error(this.line, 'unexpected ";"');
          return { args, end: 'entire', line: startLine };
        case LBRACE:
          if (args.length === 0) throw this.error(this.line, 'unexpected "{"');
          return { args, end: 'block-start', line: startLine };
        case RBRACE:
          if (args.length > 0) throw this.error(this.line, 'unexpected "}"');
          return { args, end: 'block-end', line: this.line };
        case SHARP:
          comment = true;
          continue;
        case DQUOTE:
        case SQUOTE:
          if (args.length === 0) startLine = this.line;
          quote = ch;
          quoteStart = this.pos;
          continue;
        default:
          if (args.length === 0) startLine = this.line;
          wordStart = this.pos - 1;
      }
    }
  }

  error(line: number, reason: string): ConfigError {
    return new ConfigError(this.file, line, reason);
  }
}

interface ParseContext {
  readInclude: IncludeReader;
  cwd: string;
  /** Absolute paths of the files being parsed, outermost first (cycle detection). */
  stack: string[];
  /** Display names matching `stack`. */
  names: string[];
}

function makeDirective(name: string, args: string[], file: string, line: number): ConfigDirective {
  return { name, args, children: [], file, line };
}

function parseFileInto(text: string, file: string, parent: ConfigDirective, ctx: ParseContext, depth: number): void {
  const lexer = new Lexer(text, file);
  parseBlock(lexer, file, parent, null, ctx, depth);
}

/** Parses statements into `parent` until the matching `}` (when `open` is set) or EOF. */
function parseBlock(
  lexer: Lexer,
  file: string,
  parent: ConfigDirective,
  open: ConfigDirective | null,
  ctx: ParseContext,
  depth: number,
): void {
  for (;;) {
    const st = lexer.next();
    if (st.end === 'eof') {
      if (open !== null) {
        throw new ConfigError(
          file,
          st.line,
          `unexpected end of file, expecting "}" to close "${open.name}" opened at line ${open.line}`,
        );
      }
      return;
    }
    if (st.end === 'block-end') {
      if (open === null) throw new ConfigError(file, st.line, 'unexpected "}"');
      return;
    }

    const name = st.args[0];
    const args = st.args.slice(1);
    if (name === 'include') {
      if (st.end === 'block-start') throw new ConfigError(file, st.line, '"include" cannot open a block');
      if (args.length === 0) throw new ConfigError(file, st.line, '"include" requires at least one file');
      for (const target of args) includeFile(target, file, st.line, parent, ctx, depth);
      continue;
    }

    const dir = makeDirective(name, args, file, st.line);
    if (st.end === 'block-start') {
      if (depth >= MAX_BLOCK_DEPTH) {
        throw new ConfigError(file, st.line, `blocks nested deeper than ${MAX_BLOCK_DEPTH} levels`);
      }
      parseBlock(lexer, file, dir, dir, ctx, depth + 1);
    }
    parent.children.push(dir);
  }
}

function includeFile(
  target: string,
  fromFile: string,
  line: number,
  parent: ConfigDirective,
  ctx: ParseContext,
  depth: number,
): void {
  const candidates: { display: string; abs: string }[] = [];
  if (isAbsolute(target)) {
    candidates.push({ display: normalize(target), abs: normalize(target) });
  } else {
    const display = join(dirname(fromFile), target);
    candidates.push({ display, abs: resolve(ctx.cwd, display) });
    const fromCwd = resolve(ctx.cwd, target);
    if (fromCwd !== candidates[0].abs) candidates.push({ display: normalize(target), abs: fromCwd });
  }

  for (const c of candidates) {
    const cycleAt = ctx.stack.indexOf(c.abs);
    if (cycleAt >= 0) {
      const chain = [...ctx.names.slice(cycleAt), c.display].join(' -> ');
      throw new ConfigError(fromFile, line, `include cycle: ${chain}`);
    }
    let text: string | null;
    try {
      text = ctx.readInclude(c.abs);
    } catch (e) {
      throw new ConfigError(fromFile, line, `cannot read include file "${target}": ${(e as Error).message}`);
    }
    if (text === null) continue;
    if (ctx.stack.length > MAX_INCLUDE_DEPTH) {
      throw new ConfigError(fromFile, line, `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels`);
    }
    ctx.stack.push(c.abs);
    ctx.names.push(c.display);
    try {
      parseFileInto(text, c.display, parent, ctx, depth);
    } finally {
      ctx.stack.pop();
      ctx.names.pop();
    }
    return;
  }
  const tried = candidates.map((c) => c.abs).join(', ');
  throw new ConfigError(fromFile, line, `include file "${target}" not found (tried ${tried})`);
}

/**
 * Parses config text into a tree whose root has `name === ''`. Includes are
 * resolved in place. Throws ConfigError on any syntax or include problem.
 */
export function parseConfigTree(text: string, fileName: string, options: ParseOptions = {}): ConfigDirective {
  const cwd = options.cwd ?? process.cwd();
  const ctx: ParseContext = {
    readInclude: options.readInclude ?? fsIncludeReader,
    cwd,
    stack: [resolve(cwd, fileName)],
    names: [fileName],
  };
  const root = makeDirective('', [], fileName, 0);
  parseFileInto(text, fileName, root, ctx, 0);
  return root;
}

/** Reads and parses a config file from disk. */
export function parseConfigFile(fileName: string, options: ParseOptions = {}): ConfigDirective {
  const cwd = options.cwd ?? process.cwd();
  const reader = options.readInclude ?? fsIncludeReader;
  let text: string | null;
  try {
    text = reader(resolve(cwd, fileName));
  } catch (e) {
    throw new ConfigError(fileName, 0, `cannot read config file: ${(e as Error).message}`);
  }
  if (text === null) throw new ConfigError(fileName, 0, 'config file not found');
  return parseConfigTree(text, fileName, { ...options, cwd, readInclude: reader });
}

/** First child named `name` (SRS lookups return the first match). */
export function findChild(dir: ConfigDirective | undefined, name: string): ConfigDirective | undefined {
  if (dir === undefined) return undefined;
  for (const c of dir.children) if (c.name === name) return c;
  return undefined;
}

/** Every child named `name`, in order. */
export function findChildren(dir: ConfigDirective | undefined, name: string): ConfigDirective[] {
  if (dir === undefined) return [];
  return dir.children.filter((c) => c.name === name);
}

/** Deep copy, so transforms never mutate a tree someone else holds. */
export function cloneDirective(dir: ConfigDirective): ConfigDirective {
  return {
    name: dir.name,
    args: [...dir.args],
    children: dir.children.map(cloneDirective),
    file: dir.file,
    line: dir.line,
  };
}
