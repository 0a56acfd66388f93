/**
 * The `next` a route gives the body parser it runs itself (its refusals then reach the route's
 * own catch): the parser has read and checked the body once it calls it.
 */
export async function bodyRead(): Promise<void> {}
