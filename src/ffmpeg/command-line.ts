/**
 * A command line split into argv the way a POSIX shell would split words,
 * without running a shell: whitespace separates, '…' keeps everything
 * literally, "…" keeps everything but `\"` and `\\`, a backslash outside
 * quotes escapes the next character. Nothing is expanded ($, *, ;, | and >
 * are plain characters), so text from the network can never become a command.
 */
export function splitCommandLine(text: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`unterminated ${quote} quote in command line`);
  if (inWord) argv.push(word);
  return argv;
}
