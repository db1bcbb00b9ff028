import type { BenchSubgraph } from '../../scenario.ts';
import { inStock, products, reviews, shippingEstimate, users } from './data.ts';
import type { ProductRecord, ReviewRecord } from './data.ts';

const link = (imports: readonly string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports.map((name) => `"${name}"`).join(', ')}])`;

const userById = new Map(users.map((user) => [user.id, user]));
const productByUpc = new Map(products.map((product) => [product.upc, product]));
const reviewById = new Map(reviews.map((review) => [review.id, review]));

const reviewsBy = (key: 'authorId' | 'productUpc', value: string): ReviewRecord[] =>
  reviews.filter((review) => review[key] === value);

/**
 * The classic federation demo (accounts, products, inventory with @requires, reviews with
 * @provides), its root fields carrying our access directives as our own subgraphs' do: the
 * registry the gateway refuses early from is derived from them.
 */
export const deepQuerySubgraphs: readonly BenchSubgraph[] = [
  {
    name: 'users',
    sdl: `${link(['@key', '@shareable'])}
type Query {
  me: User @tenantScoped
  users: [User!]! @tenantScoped @requiresPermission(permission: ACCOUNTING_READ)
}
type User @key(fields: "id") {
  id: ID!
  name: String
  username: String @shareable
}`,
    resolvers: {
      Query: { me: () => users[0], users: () => users },
      User: { __resolveReference: (reference: { id: string }) => userById.get(reference.id) ?? null },
    },
  },
  {
    name: 'products',
    sdl: `${link(['@key'])}
type Query {
  topProducts(first: Int = 5): [Product!]! @tenantScoped @requiresPermission(permission: ACCOUNTING_READ)
}
type Product @key(fields: "upc") {
  upc: String!
  name: String
  price: Int
  weight: Int
}`,
    resolvers: {
      Query: { topProducts: (_: unknown, args: { first: number }) => products.slice(0, args.first) },
      Product: {
        __resolveReference: (reference: { upc: string }) => productByUpc.get(reference.upc) ?? null,
      },
    },
  },
  {
    name: 'inventory',
    sdl: `${link(['@key', '@external', '@requires'])}
type Product @key(fields: "upc") {
  upc: String!
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")
}`,
    resolvers: {
      Product: {
        __resolveReference: (reference: { upc: string; price?: number; weight?: number }) => reference,
        inStock: (product: { upc: string }) => inStock[product.upc] ?? false,
        shippingEstimate: (product: { price: number; weight: number }) => shippingEstimate(product),
      },
    },
  },
  {
    name: 'reviews',
    sdl: `${link(['@key', '@external', '@provides'])}
type Review @key(fields: "id") {
  id: ID!
  body: String
  author: User @provides(fields: "username")
  product: Product
}
type User @key(fields: "id") {
  id: ID!
  username: String @external
  reviews: [Review!]!
}
type Product @key(fields: "upc") {
  upc: String!
  reviews: [Review!]!
}`,
    resolvers: {
      Review: {
        __resolveReference: (reference: { id: string }) => reviewById.get(reference.id) ?? null,
        author: (review: ReviewRecord) => ({
          __typename: 'User',
          id: review.authorId,
          username: userById.get(review.authorId)?.username,
        }),
        product: (review: ReviewRecord) => ({ __typename: 'Product', upc: review.productUpc }),
      },
      User: {
        __resolveReference: (reference: { id: string }) => reference,
        reviews: (user: { id: string }) => reviewsBy('authorId', user.id),
      },
      Product: {
        __resolveReference: (reference: { upc: string }) => reference,
        reviews: (product: Pick<ProductRecord, 'upc'>) => reviewsBy('productUpc', product.upc),
      },
    },
  },
];
