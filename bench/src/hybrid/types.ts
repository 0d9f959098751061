/** One retrieval mode of one engine: query i's ranked doc ids. */
export interface Mode {
  name: string;
  search(query: number, k: number): Promise<string[]>;
}

export interface Runner {
  engine: string;
  ingestMs: number;
  modes: Mode[];
  close(): Promise<void>;
}
