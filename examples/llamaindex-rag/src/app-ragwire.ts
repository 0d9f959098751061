// The same app on ragwire: only the import and the constructor differ (Settings.embedModel and Settings.llm are the caller's).
import { Document, MetadataMode, VectorStoreIndex, storageContextFromDefaults } from 'llamaindex';
import { RagwireVectorStore } from '@ragwire/llamaindex';
import { DOCS } from './corpus';

export async function createApp() {
  const vectorStore = new RagwireVectorStore({ path: process.env.RAGWIRE_DATA ?? './ragwire-data' });
  const storageContext = await storageContextFromDefaults({ vectorStore });
  const docs = DOCS.map((d, i) => new Document({ id_: `doc-${i}`, text: d.text, metadata: { source: d.source } }));
  const index = await VectorStoreIndex.fromDocuments(docs, { storageContext });
  return {
    vectorStore,
    async ask(question: string, k = 3) {
      const response = await index.asQueryEngine({ similarityTopK: k }).query({ query: question });
      const nodes = response.sourceNodes ?? [];
      return {
        answer: response.toString(),
        sources: nodes.map((n) => n.node.metadata.source as string),
        texts: nodes.map((n) => n.node.getContent(MetadataMode.NONE)),
      };
    },
  };
}
