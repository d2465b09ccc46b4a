// Lets Node import the console's files as the browser does, by the paths the node serves
// them at: /console/<file> is crates/node/console/<file>, and /console/modules/<m>/<file> is
// the module crate's console folder (crates/modules/<m>/console/<file>). The test command runs
// Node with `--import ./console-paths.mjs`.
import { register } from 'node:module';

register('./console-paths-hook.mjs', import.meta.url);
