/**
 * `DATABASE_URL` read into what postgres.js takes: a URL
 * (`postgres://user:pass@host1:5432,host2:5432/db?target_session_attrs=read-write`,
 * a unix socket directory as `?host=/dir`) or a libpq keyword string
 * (`host=h1,h2 port=5432 dbname=db user=u`). The text is a secret: it is
 * never logged, and errors never repeat it.
 *
 * @module
 */
import { ConfigError } from "../../lib/config_error.ts";

/**
 * `text` if it is empty (the file store) or a connection string
 * {@linkcode databaseOptions} reads; else a {@linkcode ConfigError} naming
 * `DATABASE_URL`, never quoting it.
 */
export function checkedDatabaseUrl(text: string): string {
  if (text === "") return text;
  try {
    databaseOptions(text);
  } catch (error) {
    throw new ConfigError("DATABASE_URL", (error as Error).message, {
      cause: error,
    });
  }
  return text;
}

/** Settings postgres.js takes besides (or instead of) a URL. */
export interface DatabaseOptions {
  /** The URL, or `null` for a keyword string. */
  readonly url: string | null;
  /** Keyword settings, or a URL's unix socket directory. */
  readonly options: Record<string, string | number>;
}

const KEYWORDS: Readonly<Record<string, string>> = {
  host: "host",
  hostaddr: "host",
  port: "port",
  dbname: "database",
  user: "user",
  password: "password",
  target_session_attrs: "target_session_attrs",
  sslmode: "ssl",
};

/**
 * Reads `text`; throws `SyntaxError` (not quoting it) when it is neither a
 * `postgres://` URL nor `key=value` pairs of known keys.
 */
export function databaseOptions(text: string): DatabaseOptions {
  if (/^postgres(ql)?:\/\//.test(text)) {
    const query = text.indexOf("?");
    const params = new URLSearchParams(query === -1 ? "" : text.slice(query));
    const host = params.get("host");
    const port = params.get("port");
    // postgres.js cannot read a URL without a host: the socket directory
    // (`?host=/dir`) stands in for it.
    params.delete("host");
    params.delete("port");
    const rest = params.size === 0 ? "" : `?${params}`;
    const base = query === -1 ? text : text.slice(0, query);
    const url = (base + rest).replace(
      /^(postgres(?:ql)?:\/\/(?:[^@/?]*@)?)(?=[/?]|$)/,
      "$1localhost",
    );
    return {
      url,
      options: {
        ...(host === null ? {} : { host }),
        ...(port === null ? {} : { port: Number(port) }),
        target_session_attrs: writable(params.get("target_session_attrs")),
      },
    };
  }
  const options: Record<string, string | number> = {};
  const pairs = text.trim().match(/\S+?=('(?:[^'\\]|\\.)*'|\S*)/g) ?? [];
  if (pairs.join(" ").length === 0) {
    throw new SyntaxError(
      "Cannot read the database URL: it is neither postgres://… nor key=value pairs",
    );
  }
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    let value = pair.slice(at + 1);
    if (value.startsWith("'")) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    const name = KEYWORDS[key];
    if (name === undefined) {
      throw new SyntaxError(
        `Cannot read the database URL: unknown keyword ${JSON.stringify(key)}`,
      );
    }
    options[name] = name === "port" && !value.includes(",")
      ? Number(value)
      : value;
  }
  options.target_session_attrs = writable(
    options.target_session_attrs === undefined
      ? null
      : String(options.target_session_attrs),
  );
  return { url: null, options };
}

/**
 * The session the central needs: a writable primary. postgres.js takes
 * a hot standby for `read-write` (since PostgreSQL 14 a standby reports
 * `default_transaction_read_only` off), so `read-write`, or nothing, is
 * asked of it as `primary`, which it checks by `in_hot_standby`.
 */
function writable(given: string | null): string {
  return given === null || given === "read-write" ? "primary" : given;
}
