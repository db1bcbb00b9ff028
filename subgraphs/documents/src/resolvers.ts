import { randomUUID } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { desc } from 'drizzle-orm';
import { badUserInput, isUuid, requiredText, authorize } from '@numezis/runtime';
import type { DataAccess, SubgraphContext } from '@numezis/runtime';
import type { Loaders } from './loaders.ts';
import { contentTypes, documentsTable } from './tables.ts';
import type { DocumentRow } from './tables.ts';

export interface DocumentsContext extends SubgraphContext {
  readonly loaders: Loaders;
}

interface RegisterDocumentArgs {
  input: { fileName: string; contentType: string; journalEntryId?: string | null };
}

const maxPageSize = 200;

function parseContentType(value: string): DocumentRow['contentType'] {
  const match = contentTypes.find((type) => type === value);
  if (match === undefined) throw badUserInput('contentType', `contentType must be one of ${contentTypes.join(', ')}`);
  return match;
}

export function documentsResolvers(dataAccess: DataAccess): GraphQLResolverMap<DocumentsContext> {
  return {
    Query: {
      document: (_: unknown, { id }: { id: string }, context: DocumentsContext) => {
        authorize(context.forwarded, 'Query.document');
        return isUuid(id) ? context.loaders.documents.load(id) : null;
      },
      documents: (_: unknown, { first }: { first: number }, context: DocumentsContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.documents'), (tx) =>
          tx
            .select()
            .from(documentsTable)
            .orderBy(desc(documentsTable.createdAt))
            .limit(Math.min(Math.max(first, 0), maxPageSize)),
        ),
    },
    Mutation: {
      registerDocument: async (_: unknown, { input }: RegisterDocumentArgs, context: DocumentsContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.registerDocument');
        const fileName = requiredText(input.fileName, 'fileName', 255);
        const contentType = parseContentType(input.contentType);
        const journalEntryId = input.journalEntryId ?? null;
        if (journalEntryId !== null && !isUuid(journalEntryId)) {
          throw badUserInput('journalEntryId', 'journalEntryId must be a journal entry id');
        }
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [row] = await tx
            .insert(documentsTable)
            .values({ tenantId, id: randomUUID(), fileName, contentType, journalEntryId })
            .returning();
          return row;
        });
      },
    },
    Document: {
      __resolveReference: (reference: { id: string }, context: DocumentsContext) =>
        context.loaders.documents.load(reference.id),
      createdAt: (document: DocumentRow) => document.createdAt.toISOString(),
      journalEntry: (document: DocumentRow) =>
        document.journalEntryId === null ? null : { __typename: 'JournalEntry', id: document.journalEntryId },
    },
    JournalEntry: {
      // The entry itself lives in accounting; here it is only a key to hang documents on.
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      documents: async (entry: { id: string }, _: unknown, context: DocumentsContext) =>
        (await context.loaders.documentsByEntry.load(entry.id)) ?? [],
    },
  };
}
