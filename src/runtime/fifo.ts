/**
 * A first-in first-out queue with O(1) shift. `Array.prototype.shift` moves every element once
 * an array is large (V8 trims in place only up to a point): a queue of 100 000 spilled calls
 * drained one by one took seconds. Here the head is an index; the array is compacted when the
 * consumed part is both large and more than half of it.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.items.length - 1];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    (this.items as (T | undefined)[])[this.head] = undefined; // let it be collected
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}
