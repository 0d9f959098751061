// A benchmark's command-line options: `--name value` pairs and bare `--flag`s.

/** The value after `--name` in `argv`, else `fallback`. */
export function argValue(argv: readonly string[]): (name: string, fallback: string) => string {
  return (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
}
