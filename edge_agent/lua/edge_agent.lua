-- The edge agent's request-time routing, and the control calls the agent makes over its unix socket.
--
-- Every domain's settings live in the shared dictionary `edge_domains` (key: the domain, `*.` included for a
-- wildcard; value: the JSON record the agent compiled), so a change is one dictionary write, seen by every
-- worker at once, with no reload. A request looks up its Host (exact, then the longest wildcard), picks an
-- origin (priority levels, weights within a level) and hands over to the named location of its kind of
-- fetch; a failed fetch comes back through `error_page` and the next origin is tried.
local cjson = require "cjson.safe"
local lrucache = require "resty.lrucache"

local domains = ngx.shared.edge_domains
local decoded = lrucache.new(4096)
local _M = {}

local function record(key)
    local raw = domains:get(key)
    if raw == nil then
        return nil
    end
    local hit = decoded:get(key)
    if hit ~= nil and hit[1] == raw then
        return hit[2]
    end
    local rec = cjson.decode(raw)
    if rec ~= nil then
        decoded:set(key, { raw, rec })
    end
    return rec
end

local function lookup(host)
    local rec = record(host)
    if rec ~= nil then
        return rec
    end
    local rest = host
    while true do
        local dot = rest:find(".", 1, true)
        if dot == nil then
            return nil
        end
        rest = rest:sub(dot + 1)
        if rest:find(".", 1, true) == nil then
            return nil
        end
        rec = record("*." .. rest)
        if rec ~= nil then
            return rec
        end
    end
end

local function pick(candidates)
    local total = 0
    for _, c in ipairs(candidates) do
        total = total + c[2].w
    end
    local roll = math.random() * total
    for _, c in ipairs(candidates) do
        roll = roll - c[2].w
        if roll <= 0 then
            return c
        end
    end
    return candidates[#candidates]
end

-- Hand the request to the next origin not tried yet (lowest priority level first), or answer 502.
local function forward(rec)
    local tried = ngx.var.edge_tried
    for level, origins in ipairs(rec.o) do
        local candidates = {}
        for index, origin in ipairs(origins) do
            local id = "," .. level .. "." .. index .. ","
            if not tried:find(id, 1, true) then
                candidates[#candidates + 1] = { id, origin }
            end
        end
        if #candidates > 0 then
            local chosen = pick(candidates)
            local origin = chosen[2]
            ngx.var.edge_tried = tried .. chosen[1]
            if origin.loc == "" then
                -- Verification is on and no SNI is sent: no certificate can match (the vendor's behaviour).
                return forward(rec)
            end
            ngx.var.edge_peer = origin.a
            ngx.var.edge_sni = origin.n
            return ngx.exec(origin.loc)
        end
    end
    return ngx.exit(ngx.HTTP_BAD_GATEWAY)
end

function _M.route()
    local rec = lookup(ngx.var.host)
    if rec == nil then
        ngx.header["X-Edge-Config-Generation"] = _M.generation
        return ngx.exit(ngx.HTTP_NOT_FOUND)
    end
    ngx.var.edge_revision = rec.r
    ngx.var.edge_key = rec.k
    if not rec.on then
        return ngx.exit(ngx.HTTP_FORBIDDEN)
    end
    if #rec.o == 0 then
        return ngx.exit(ngx.HTTP_BAD_GATEWAY)
    end
    ngx.var.edge_host = rec.host ~= "" and rec.host or ngx.var.host
    return forward(rec)
end

-- After a failed fetch: the same domain's next origin (the record may have changed meanwhile: follow it).
function _M.retry()
    local rec = record(ngx.var.edge_key)
    if rec == nil then
        return ngx.exit(ngx.HTTP_BAD_GATEWAY)
    end
    ngx.var.edge_revision = rec.r
    return forward(rec)
end

-- Control ------------------------------------------------------------------------------------------------

local function reply(status, body)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.say(cjson.encode(body))
    return ngx.exit(status)
end

local function body_json()
    ngx.req.read_body()
    local data = ngx.req.get_body_data()
    if data == nil then
        local file = ngx.req.get_body_file()
        if file ~= nil then
            local handle = io.open(file, "rb")
            if handle ~= nil then
                data = handle:read("*a")
                handle:close()
            end
        end
    end
    return data and cjson.decode(data)
end

-- POST /set {"set": {key: record JSON}, "delete": [key]} -> {"failed": {key: reason}}
-- POST /keep {"keep": [key]}: deletes every other key (the end of a full sync).
-- GET /generation -> {"generation": ..., "domains": n}
function _M.control()
    local uri = ngx.var.uri
    if uri == "/generation" then
        return reply(200, { generation = _M.generation, domains = #domains:get_keys(0) })
    end
    local body = body_json()
    if type(body) ~= "table" then
        return reply(400, { error = "not JSON" })
    end
    if uri == "/set" then
        local failed = {}
        for _, key in ipairs(body.delete or {}) do
            domains:delete(key)
        end
        for key, raw in pairs(body.set or {}) do
            -- safe_set never evicts another domain to make room.
            local ok, err = domains:safe_set(key, raw)
            if not ok then
                failed[key] = err
            end
        end
        return reply(200, { failed = failed })
    elseif uri == "/keep" then
        local keep = {}
        for _, key in ipairs(body.keep or {}) do
            keep[key] = true
        end
        local removed = 0
        for _, key in ipairs(domains:get_keys(0)) do
            if not keep[key] then
                domains:delete(key)
                removed = removed + 1
            end
        end
        return reply(200, { removed = removed })
    end
    return reply(404, { error = "unknown call" })
end

return _M
