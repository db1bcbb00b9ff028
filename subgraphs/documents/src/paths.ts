// Resolved from this file's folder, which is `src/` in development and `dist/` when bundled: keep it
// at this depth.
export const schemaFile = new URL('../schema.graphql', import.meta.url);
export const migrationsDir = new URL('../migrations/', import.meta.url);
export const defaultDataDir = new URL('../../../.data/documents', import.meta.url).pathname;
export const defaultBlobDir = new URL('../../../.data/document-files', import.meta.url).pathname;
