// @pixsearch/cli — the `pixsearch` command. Programmatic entry: `main(argv)` resolves to the exit code.
export { main, buildCli } from './main.js';
export { resolveSettings, readConfigFile, CONFIG_FILE, type Settings, type ResolvedSettings, type SettingSource } from './config.js';
export { EXIT, UsageError } from './errors.js';
export { defaultDataDir } from './paths.js';
