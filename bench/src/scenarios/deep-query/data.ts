/** The federation demo's data, in memory: people, products with their stock, and reviews linking them. */
export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly username: string;
}

export interface ProductRecord {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
}

export interface ReviewRecord {
  readonly id: string;
  readonly authorId: string;
  readonly productUpc: string;
  readonly body: string;
}

export const users: readonly UserRecord[] = [
  { id: '1', name: 'Ada Lovelace', username: '@ada' },
  { id: '2', name: 'Alan Turing', username: '@complete' },
  { id: '3', name: 'Grace Hopper', username: '@cobol' },
  { id: '4', name: 'Edsger Dijkstra', username: '@goto' },
  { id: '5', name: 'Barbara Liskov', username: '@substitute' },
  { id: '6', name: 'Niklaus Wirth', username: '@pascal' },
];

export const products: readonly ProductRecord[] = [
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Chair', price: 54, weight: 50 },
  { upc: '4', name: 'Lamp', price: 120, weight: 4 },
  { upc: '5', name: 'Shelf', price: 310, weight: 35 },
  { upc: '6', name: 'Desk', price: 640, weight: 60 },
  { upc: '7', name: 'Rug', price: 220, weight: 12 },
  { upc: '8', name: 'Bed', price: 1590, weight: 140 },
  { upc: '9', name: 'Stool', price: 45, weight: 6 },
];

export const inStock: Readonly<Record<string, boolean>> = {
  '1': true,
  '2': false,
  '3': true,
  '4': true,
  '5': false,
  '6': true,
  '7': true,
  '8': false,
  '9': true,
};

export const reviews: readonly ReviewRecord[] = [
  { id: '1', authorId: '1', productUpc: '1', body: 'Love it!' },
  { id: '2', authorId: '1', productUpc: '2', body: 'Too expensive.' },
  { id: '3', authorId: '2', productUpc: '3', body: 'Could be better.' },
  { id: '4', authorId: '2', productUpc: '1', body: 'Prefer something else.' },
  { id: '5', authorId: '3', productUpc: '4', body: 'Bright enough to debug by.' },
  { id: '6', authorId: '3', productUpc: '5', body: 'Holds every manual.' },
  { id: '7', authorId: '4', productUpc: '6', body: 'Considered harmful.' },
  { id: '8', authorId: '5', productUpc: '7', body: 'Replaceable by any other rug.' },
  { id: '9', authorId: '6', productUpc: '8', body: 'Algorithms + beds = sleep.' },
  { id: '10', authorId: '4', productUpc: '9', body: 'Short, but correct.' },
];

/** The classic demo's rule: heavy things ship at a cost, expensive ones ship free. */
export function shippingEstimate(product: { price: number; weight: number }): number {
  return product.price > 1000 ? 0 : Math.round(product.weight / 2);
}
