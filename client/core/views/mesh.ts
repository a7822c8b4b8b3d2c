// How many people a voice room's full mesh handles well: every daemon encodes once but sends its
// stream to each other member and decodes each of theirs, so upload and CPU grow with the room
// (figures: docs/VOICE.md, "Mesh size"; measured by `npm run bench -- mesh`).
export const MESH_COMFORTABLE_PEOPLE = 6;

export const meshSizeNotice = (people: number, channel: string): string =>
  `${people} people in voice in ${channel}: voice is a full mesh (each member sends to every other) and works well up to ` +
  `${MESH_COMFORTABLE_PEOPLE}; with more, expect more CPU and upload and choppier audio on slow links`;

/** Says when a room grows past the comfortable size: once per room, again only after it shrank back. */
export class MeshSizeWatch {
  #over: string | undefined;

  /** `people` counts this user too; true the first time the room is too large (say meshSizeNotice then). */
  update(channelId: string | undefined, people: number): boolean {
    const over = channelId !== undefined && people > MESH_COMFORTABLE_PEOPLE;
    if (!over) {
      if (this.#over === channelId || channelId === undefined) this.#over = undefined;
      return false;
    }
    if (this.#over === channelId) return false;
    this.#over = channelId;
    return true;
  }
}
