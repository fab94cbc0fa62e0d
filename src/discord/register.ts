import { ConfigError } from '../config/load.ts';
import { registerCommands } from './registerCommands.ts';
import { configErrorLine, loadBotConfig } from './startup.ts';

try {
  const config = loadBotConfig();
  const count = await registerCommands(config);
  process.stdout.write(
    `Registered ${count} commands ${config.DISCORD_GUILD_ID ? `in server ${config.DISCORD_GUILD_ID}` : 'globally (they can take up to an hour to appear)'}.\n`,
  );
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? configErrorLine(error) : `Could not register commands: ${error instanceof Error ? error.message : String(error)}`}\n`,
  );
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}
