// Types of sse.js (plain JavaScript, since the browser loads it as it is); tests use the parser.

export interface StreamEvent {
  type: string;
  data: string;
  /** The last `id:` seen, as Last-Event-ID would send it. */
  id: string | null;
}

export declare function parseEvents(chunks: AsyncIterable<string>): AsyncGenerator<StreamEvent>;

export declare function follow(
  params: Record<string, string>,
  handlers: {
    onEvent: (event: StreamEvent) => void;
    onStatus: (status: string) => void;
    onDenied?: (status: number) => void;
  },
): { close(): void };

export declare function showStatus(status: string): void;
