// A throwaway Verdaccio on 127.0.0.1: a free port, a temporary storage directory, one user
// whose token goes into a temporary npm user config. Stopping it removes everything it made.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ROOT } from './workspace.mjs';

const START_TIMEOUT_MS = 60_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `denyPublish` names packages nobody may publish: the release check uses it to make a
 * real publish fail half-way.
 */
function verdaccioConfig(storage, { denyPublish = [] }) {
  const denied = denyPublish.map((name) => `  '${name}':\n    access: $all\n    publish: nobody-at-all\n    unpublish: $authenticated\n`);
  return `storage: ${storage}/storage
auth:
  htpasswd:
    file: ${storage}/htpasswd
    max_users: 10
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
packages:
${denied.join('')}  '@keel/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    proxy: npmjs
max_body_size: 200mb
log: { type: stdout, format: pretty, level: warn }
`;
}

function waitForListening(child, url) {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Verdaccio did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes(url)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Verdaccio exited with ${code} before listening:\n${output}`));
    });
  });
}

async function createUser(url) {
  const name = 'keel-release';
  const response = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'keel-release-check', type: 'user', roles: [] }),
  });
  const body = await response.json();
  if (!response.ok || typeof body.token !== 'string') throw new Error(`Verdaccio refused the release user: ${JSON.stringify(body)}`);
  return body.token;
}

/** Starts a registry; `home` (optional) is reused so a restarted registry keeps its packages. */
export async function startRegistry({ home, denyPublish } = {}) {
  const dir = home ?? mkdtempSync(join(tmpdir(), 'keel-registry-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configPath = join(dir, `config-${port}.yaml`);
  writeFileSync(configPath, verdaccioConfig(dir, { denyPublish }));
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'verdaccio'), ['--config', configPath, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await waitForListening(child, url);
  } catch (error) {
    child.kill('SIGKILL');
    if (!home) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // A restarted registry keeps its users, so the token made at first start is kept too.
  const tokenPath = join(dir, 'token');
  const token = existsSync(tokenPath)
    ? readFileSync(tokenPath, 'utf8')
    : await createUser(url).catch((error) => {
        child.kill('SIGKILL');
        throw error;
      });
  writeFileSync(tokenPath, token);
  const userConfig = join(dir, `npmrc-${port}`);
  writeFileSync(userConfig, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  // npm and pnpm both read the user config named here; the registry variable wins over
  // any project .npmrc.
  const env = { ...process.env, npm_config_userconfig: userConfig, npm_config_registry: `${url}/` };
  return {
    url,
    env,
    home: dir,
    async stop({ keepHome = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!keepHome) rmSync(dir, { recursive: true, force: true });
    },
  };
}
