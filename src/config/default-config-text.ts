// The built-in default config (used without -c). Kept byte-identical to
// conf/default.conf; a unit test guards that they agree.

export const DEFAULT_CONFIG_TEXT = `# Sluice built-in default: used when the server starts without -c.
# The same text is embedded in src/config/default-config-text.ts (a test keeps them equal).

listen              1935;
max_connections     1000;
# Sluice runs in the foreground; log to the console rather than ./objs/srs.log.
srs_log_tank        console;

http_api {
    enabled         on;
    listen          1985;
}

http_server {
    enabled         on;
    listen          8080;
    dir             ./objs/nginx/html;
}

vhost __defaultVhost__ {
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
    }
}
`;
