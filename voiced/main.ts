// dialtone-voiced: the voice daemon (DESIGN §6). Not built yet: this entry point
// only describes itself, so that `npx dialtone-voiced --help` answers honestly.
const HELP = `dialtone-voiced: the Dialtone voice daemon

Status: not implemented yet. Voice (WebRTC mesh, Opus, TURN, the VoicedService IPC
on $XDG_RUNTIME_DIR/dialtone/voiced.sock) is the next milestone; the server side
(VoiceService: rooms, sealed signal relay, TURN credentials) is already live.
`;

process.stdout.write(HELP);
process.exit(process.argv.includes("--help") || process.argv.includes("-h") ? 0 : 1);
