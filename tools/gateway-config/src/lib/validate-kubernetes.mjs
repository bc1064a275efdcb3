// Validates Kubernetes documents against the JSON schemas of kubernetes-models (the Kubernetes API) and
// @kubernetes-models/traefik (Traefik v3's CRDs), offline. ESM-only packages, so the Jest spec runs this in a
// plain Node process: stdin is a JSON array of {where, document}; stdout a JSON array of {where, errors} for
// every invalid document (unknown apiVersion/kind counts as invalid).
import { readFileSync } from 'node:fs';

const modelPath = ({ apiVersion = '', kind = '' }) => {
  if (!/^[A-Za-z]+$/.test(kind)) return undefined;
  if (apiVersion === 'traefik.io/v1alpha1') return `@kubernetes-models/traefik/traefik.io/v1alpha1/${kind}`;
  if (/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion)) return `kubernetes-models/${apiVersion}/${kind}`;
  return undefined;
};

const inputs = JSON.parse(readFileSync(0, 'utf8'));
const failures = [];
for (const { where, document } of inputs) {
  const path = modelPath(document ?? {});
  let Model;
  try {
    Model = path && (await import(path))[document.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    failures.push({ where, errors: [`no schema for ${document?.apiVersion} ${document?.kind}`] });
    continue;
  }
  try {
    new Model(document).validate();
  } catch (error) {
    failures.push({ where, errors: String(error.message).split('\n') });
  }
}
process.stdout.write(JSON.stringify(failures));
