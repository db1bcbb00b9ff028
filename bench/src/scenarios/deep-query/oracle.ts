import { buildSchema, execute, parse } from 'graphql';
import { inStock, products, reviews, shippingEstimate, users } from './data.ts';
import type { ProductRecord, ReviewRecord, UserRecord } from './data.ts';

// The same graph as one plain schema over the same data: what every gateway must answer, worked out
// without federation, so a gateway that plans or merges wrongly cannot agree with itself.
const schema = buildSchema(`
  type Query { users: [User!]! topProducts(first: Int = 5): [Product!]! }
  type User { id: ID! name: String username: String reviews: [Review!]! }
  type Product { upc: String! name: String price: Int weight: Int inStock: Boolean shippingEstimate: Int reviews: [Review!]! }
  type Review { id: ID! body: String author: User product: Product }
`);

class UserNode {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  constructor(user: UserRecord) {
    ({ id: this.id, name: this.name, username: this.username } = user);
  }
  reviews() {
    return reviews.filter((review) => review.authorId === this.id).map((review) => new ReviewNode(review));
  }
}

class ProductNode {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
  constructor(product: ProductRecord) {
    ({ upc: this.upc, name: this.name, price: this.price, weight: this.weight } = product);
  }
  inStock() {
    return inStock[this.upc] ?? false;
  }
  shippingEstimate() {
    return shippingEstimate(this);
  }
  reviews() {
    return reviews.filter((review) => review.productUpc === this.upc).map((review) => new ReviewNode(review));
  }
}

class ReviewNode {
  readonly id: string;
  readonly body: string;
  readonly #review: ReviewRecord;
  constructor(review: ReviewRecord) {
    this.#review = review;
    ({ id: this.id, body: this.body } = review);
  }
  author() {
    const user = users.find((candidate) => candidate.id === this.#review.authorId);
    return user === undefined ? null : new UserNode(user);
  }
  product() {
    const product = products.find((candidate) => candidate.upc === this.#review.productUpc);
    return product === undefined ? null : new ProductNode(product);
  }
}

export async function expectedDeepQueryData(body: string): Promise<unknown> {
  const result = await execute({
    schema,
    document: parse(body),
    rootValue: {
      users: () => users.map((user) => new UserNode(user)),
      topProducts: ({ first }: { first: number }) =>
        products.slice(0, first).map((product) => new ProductNode(product)),
    },
  });
  if (result.errors !== undefined) throw new Error(`the oracle cannot answer: ${result.errors[0]?.message}`);
  // A plain JSON value, as a response body parses to (no null-prototype objects).
  return JSON.parse(JSON.stringify(result.data)) as unknown;
}
