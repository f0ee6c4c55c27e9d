'use strict';
// Reads a project's credentials.json with eas-cli's own reader and prints, as JSON on
// standard output, what the reader returned: files as base64, passwords as they are (the
// tests choose them).
//
//   node read_credentials.js PROJECT_DIR android
//   node read_credentials.js PROJECT_DIR ios APPLICATION_TARGET [OTHER_TARGET...]
//
// Android: `readAndroidCredentialsAsync(projectDir)`, which returns
// `{keystore: {keystore, keystorePassword, keyAlias, keyPassword}}`. iOS: as eas-cli's
// `SetUpBuildCredentialsFromCredentialsJson` reads it, `readIosCredentialsAsync(projectDir,
// applicationTarget)` (a single-target section is the application target's), then
// `ensureAllTargetsAreConfigured(targets, credentials)`; it returns
// `{[targetName]: {provisioningProfile, distributionCertificate: {certificateP12,
// certificatePassword}}}`.
//
// When eas-cli rejects the file, its message goes to standard error and the exit code is 1;
// a usage error exits 2. SIGNET_TEST_EAS_CLI is the node_modules directory that holds
// eas-cli (scripts/test installs it).
const path = require('path');

function usage(message) {
  process.stderr.write(`read_credentials.js: ${message}\n`);
  process.exit(2);
}

const modules = process.env.SIGNET_TEST_EAS_CLI;
if (!modules) {
  usage('SIGNET_TEST_EAS_CLI is not set');
}
const credentialsJson = path.join(modules, 'eas-cli', 'build', 'credentials', 'credentialsJson');
const { readAndroidCredentialsAsync, readIosCredentialsAsync } = require(
  path.join(credentialsJson, 'read.js')
);
const { ensureAllTargetsAreConfigured } = require(path.join(credentialsJson, 'utils.js'));

const [projectDir, platform, ...targetNames] = process.argv.slice(2);
if (!projectDir || (platform !== 'android' && platform !== 'ios')) {
  usage('usage: read_credentials.js PROJECT_DIR android|ios [TARGET...]');
}
if (platform === 'ios' && targetNames.length === 0) {
  usage('ios needs the application target name (and any other target names)');
}

async function read() {
  if (platform === 'android') {
    return await readAndroidCredentialsAsync(projectDir);
  }
  // eas-cli's Target; these functions read only targetName.
  const targets = targetNames.map((targetName) => ({
    targetName,
    bundleIdentifier: `com.example.${targetName}`,
    entitlements: {},
  }));
  const credentials = await readIosCredentialsAsync(projectDir, targets[0]);
  ensureAllTargetsAreConfigured(targets, credentials);
  return credentials;
}

read().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
);
