/**
 * Keys of the subset: plain words (`server`, `maxAmount`, `log_level`),
 * never `__proto__`.
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/**
 * A plain value read as a string: it starts with a letter (so it is no
 * number, date, boolean-like `~` or indicator) and holds only characters
 * with no YAML meaning; `: ` and ` #` are ruled out separately.
 */
const PLAIN_STRING = /^[A-Za-z][A-Za-z0-9 _./@+:-]*$/;
/** A plain value read as an integer: decimal, no leading zero. */
const PLAIN_INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;
/** Plain words YAML reads as booleans or null in any schema. */
const RESERVED = new Set([
  "true",
  "false",
  "null",
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
]);

interface Level {
  /** Its keys' indentation; -1 until its first key is seen. */
  indent: number;
  readonly map: Record<string, unknown>;
}

/**
 * Parses the small subset of YAML a configuration file like config.yaml
 * uses, without a YAML library: nested block mappings (indented with
 * spaces) of plain keys whose values are decimal integers, quoted strings
 * with no escapes, or plain words; blank lines and `#` comments. Returns
 * `{ value }` with what a YAML 1.2 parser gives for such a text, or `null`
 * for any text outside the subset (lists, flow collections, anchors,
 * escapes, booleans, floats, dates, duplicate keys, tabs, an empty
 * document, syntax errors…):
 * the caller then hands it to a full YAML parser, which reads it or
 * explains what is wrong.
 */
export function parseSimpleYaml(text: string): { value: unknown } | null {
  const root: Record<string, unknown> = {};
  const stack: Level[] = [{ indent: 0, map: root }];
  /** The key whose value is a mapping still waiting for its first key. */
  let opened: { parent: Record<string, unknown>; key: string } | null = null;
  let empty = true;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const content = line.trimStart();
    if (content === "" || content.startsWith("#")) continue;
    const indent = line.length - content.length;
    if (line.slice(0, indent).includes("\t")) return null;
    let level = stack.at(-1)!;
    if (opened !== null) {
      const parent = stack.at(-2)!;
      if (indent > parent.indent) level.indent = indent;
      else {
        // `key:` with nothing under it is null.
        opened.parent[opened.key] = null;
        stack.pop();
        level = stack.at(-1)!;
      }
      opened = null;
    }
    while (indent < level.indent && stack.length > 1) {
      stack.pop();
      level = stack.at(-1)!;
    }
    if (indent !== level.indent) return null;
    const colon = content.indexOf(":");
    if (colon <= 0) return null;
    const key = content.slice(0, colon);
    if (
      !KEY.test(key) || key === "__proto__" || Object.hasOwn(level.map, key)
    ) {
      return null;
    }
    const rest = content.slice(colon + 1);
    if (rest !== "" && !/^[ ]/.test(rest)) return null;
    const scalar = parseScalar(rest.trim());
    if (scalar === undefined) return null;
    empty = false;
    if (scalar === OPENS_MAPPING) {
      const map: Record<string, unknown> = {};
      level.map[key] = map;
      stack.push({ indent: -1, map });
      opened = { parent: level.map, key };
    } else {
      level.map[key] = scalar.value;
    }
  }
  // An empty document is the full parser's to judge.
  if (empty) return null;
  if (opened !== null) opened.parent[opened.key] = null;
  return { value: root };
}

const OPENS_MAPPING = Symbol("opens a mapping");

/**
 * The value after `key:` (trimmed): a scalar, {@linkcode OPENS_MAPPING}
 * when there is none, `undefined` when it is outside the subset.
 */
function parseScalar(
  text: string,
): { value: string | number } | typeof OPENS_MAPPING | undefined {
  if (text === "" || text.startsWith("#")) return OPENS_MAPPING;
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, 1);
    if (close === -1) return undefined;
    const value = text.slice(1, close);
    if (quote === '"' && value.includes("\\")) return undefined;
    const after = text.slice(close + 1);
    if (after !== "" && !/^[ ]+(?:#.*)?$/.test(after)) return undefined;
    return { value };
  }
  const hash = text.indexOf(" #");
  const value = (hash === -1 ? text : text.slice(0, hash)).trimEnd();
  if (PLAIN_INTEGER.test(value)) {
    const number = Number(value);
    return Object.is(number, -0) ? undefined : { value: number };
  }
  if (
    !PLAIN_STRING.test(value) || value.endsWith(":") || value.includes(": ") ||
    value.includes("  ") || RESERVED.has(value.toLowerCase())
  ) {
    return undefined;
  }
  return { value };
}
