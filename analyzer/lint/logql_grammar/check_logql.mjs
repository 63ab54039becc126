// Checks LogQL expressions with Grafana's own LogQL grammar (@grafana/lezer-logql).
//
// stdin: a JSON array of {"id": any, "expr": string} (or bare strings).
// stdout: a JSON array, in the same order, of
//   {"id", "ok", "errors": [{"offset", "line", "col", "message"}],
//    "selector_labels": [names used in stream selectors],
//    "regexes": [{"offset", "pattern"}]}
// Lezer recovers from syntax errors by inserting error nodes (type "⚠"); every such node is
// reported. Regex bodies are returned undecoded so the caller can compile them: the grammar
// accepts any string there, Loki does not.
import { parser } from '@grafana/lezer-logql';

function position(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return { line, col };
}

function describe(text, from, to) {
  if (from >= text.trimEnd().length) {
    return 'unexpected end of expression';
  }
  const found = (to > from ? text.slice(from, to) : text.slice(from).trimStart().split(/\s/)[0]);
  const snippet = found.length > 30 ? `${found.slice(0, 30)}...` : found;
  return to > from ? `unexpected \`${snippet}\`` : `syntax error before \`${snippet}\``;
}

function unquote(raw) {
  if (raw.startsWith('`')) {
    return raw.slice(1, -1);
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw.slice(1, -1);
  }
}

const REGEX_OPS = new Set(['Re', 'Nre', 'PipeMatch']);

function check(expr) {
  const errors = [];
  const selectorLabels = new Set();
  const regexes = [];
  if (expr.trim() === '') {
    return { ok: false, errors: [{ offset: 0, line: 1, col: 1, message: 'empty expression' }],
      selector_labels: [], regexes };
  }
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push({ offset: node.from, ...position(expr, node.from),
          message: describe(expr, node.from, node.to) });
        return;
      }
      if (node.name === 'Matcher' || node.name === 'LineFilter') {
        const inSelector = node.node.parent && node.node.parent.name === 'Matchers';
        let op = null;
        for (let child = node.node.firstChild; child; child = child.nextSibling) {
          if (child.name === 'Identifier' && inSelector) {
            selectorLabels.add(expr.slice(child.from, child.to));
          }
          if (REGEX_OPS.has(child.name)) {
            op = child.name;
          }
          if (child.name === 'Filter' && child.firstChild && REGEX_OPS.has(child.firstChild.name)) {
            op = child.firstChild.name;
          }
          if (child.name === 'String' && op) {
            regexes.push({ offset: child.from, pattern: unquote(expr.slice(child.from, child.to)) });
          }
        }
      }
    },
  });
  return { ok: errors.length === 0, errors, selector_labels: [...selectorLabels], regexes };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const items = JSON.parse(input || '[]');
  const results = items.map((item, index) => {
    const entry = typeof item === 'string' ? { id: index, expr: item } : item;
    return { id: entry.id, ...check(String(entry.expr)) };
  });
  process.stdout.write(JSON.stringify(results));
});
