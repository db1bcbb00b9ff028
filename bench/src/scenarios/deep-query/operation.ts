/**
 * The benchmark's deep query, the shape of the public gateway benchmarks: users and top products,
 * their reviews, the reviewed products' reviews, their authors' reviews and those reviews'
 * products, so one request fans out to every subgraph several times.
 */
export const deepQuery = {
  name: 'DeepQuery',
  body: `fragment UserFields on User {
  id
  username
  name
}

fragment ReviewFields on Review {
  id
  body
}

fragment ProductFields on Product {
  upc
  name
  price
  weight
  inStock
  shippingEstimate
}

query DeepQuery {
  users {
    ...UserFields
    reviews {
      ...ReviewFields
      product {
        ...ProductFields
        reviews {
          ...ReviewFields
          author {
            ...UserFields
            reviews {
              ...ReviewFields
              product {
                ...ProductFields
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...ProductFields
    reviews {
      ...ReviewFields
      author {
        ...UserFields
        reviews {
          ...ReviewFields
          product {
            ...ProductFields
          }
        }
      }
    }
  }
}`,
} as const;
