// The secrets the product's launcher starts servers with (scripts/lib/cluster-secrets.ts).
export { authHeaders, ownerTokenFor, type ServerSecrets } from '../../scripts/lib/cluster-secrets.js';
