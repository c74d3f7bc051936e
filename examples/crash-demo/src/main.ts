console.log("crash demo: not built yet");
