// A small RAG app on LangChain's MemoryVectorStore.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { DOCS } from './corpus';

export async function createApp(embeddings: EmbeddingsInterface, llm: BaseChatModel) {
  const store = new MemoryVectorStore(embeddings);
  await store.addDocuments(DOCS.map((d, i) => new Document({ id: `doc-${i}`, pageContent: d.text, metadata: { source: d.source } })));
  const prompt = ChatPromptTemplate.fromMessages([
    ['system', 'Answer from the context.\n{context}'],
    ['human', '{question}'],
  ]);
  const chain = prompt.pipe(llm).pipe(new StringOutputParser());
  return {
    store,
    async ask(question: string, k = 3) {
      const docs = await store.similaritySearch(question, k);
      const answer = await chain.invoke({ context: docs.map((d) => d.pageContent).join('\n'), question });
      return { answer, sources: docs.map((d) => d.metadata.source as string), texts: docs.map((d) => d.pageContent) };
    },
  };
}
