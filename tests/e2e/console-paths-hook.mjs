// The resolve hook console-paths.mjs registers.
const ROOT = new URL('../../', import.meta.url);

export async function resolve(specifier, context, next) {
  const module = /^\/console\/modules\/([a-z0-9_-]+)\/([A-Za-z0-9_.-]+\.js)$/.exec(specifier);
  if (module) return next(new URL(`crates/modules/${module[1]}/console/${module[2]}`, ROOT).href, context);
  const shell = /^\/console\/([A-Za-z0-9_.-]+\.js)$/.exec(specifier);
  if (shell) return next(new URL(`crates/node/console/${shell[1]}`, ROOT).href, context);
  return next(specifier, context);
}
