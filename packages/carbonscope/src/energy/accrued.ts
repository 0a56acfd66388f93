/**
 * What the samples an operation ran across gave it before its end, and the tracker's scratch
 * weight while one is settled. Made at the first sample that finds it running: most requests
 * start and end between two samples and never need one, and every number here is a box V8
 * would allocate with each operation.
 */
export class Accrued {
  joules = 0;
  grams = 0;
  embodiedGrams = 0;
  estimated = false;
  /** Its share of the interval being settled. */
  weight = 0;
  /** That share is its kind's density × its time: no window measured its name (see guessed). */
  guessed = false;
}
