// A problem with the user's input (text, option, setting, checkpoint). Callers show `message` as one
// line and never a stack trace; anything that is not a RecurrentError is a bug.
export class RecurrentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecurrentError';
  }
}
