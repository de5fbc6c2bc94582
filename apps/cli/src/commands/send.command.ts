/**
 * The threading members of a submitted message from `send --thread/--in-reply-to`: a reply to
 * a message joins that message's thread unless --thread names another (e.g. the case a reply to
 * a case message belongs to); neither option: the message starts a thread of its own.
 */
export function threadingOf(options: { thread?: unknown; inReplyTo?: unknown }): {
  threadId?: string;
  inReplyTo?: string;
} {
  const thread = typeof options.thread === 'string' && options.thread ? options.thread : undefined;
  const inReplyTo =
    typeof options.inReplyTo === 'string' && options.inReplyTo ? options.inReplyTo : undefined;
  const threadId = thread ?? inReplyTo;
  return { ...(threadId ? { threadId } : {}), ...(inReplyTo ? { inReplyTo } : {}) };
}
