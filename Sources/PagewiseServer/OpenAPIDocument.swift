/// The OpenAPI 3 description of every route (`GET /openapi.json`); a test keeps it equal to the router's.
enum OpenAPIDocument {
    /// Method and path of every documented route.
    static let routes: [(method: String, path: String)] = [
        ("POST", "/v1/completions"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models"),
        ("POST", "/tokenize"), ("POST", "/detokenize"), ("GET", "/health"), ("GET", "/version"),
        ("GET", "/openapi.json"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/index.html"),
    ]

    static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {"title": "Pagewise", "version": "0.1.0", "description": "OpenAI-compatible LLM server (vLLM's shapes and extensions)."},
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
            "required": ["message", "type", "code"],
            "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "param": {"type": "string", "nullable": true}, "code": {"type": "integer"}}}}},
          "Usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
            "total_tokens": {"type": "integer"}, "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": {"type": "integer"}}}}},
          "Sampling": {"type": "object", "properties": {
            "model": {"type": "string"}, "n": {"type": "integer", "minimum": 1, "maximum": 128}, "best_of": {"type": "integer"},
            "temperature": {"type": "number", "minimum": 0}, "top_p": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1},
            "top_k": {"type": "integer", "minimum": -1}, "min_p": {"type": "number", "minimum": 0, "maximum": 1}, "seed": {"type": "integer"},
            "min_tokens": {"type": "integer", "minimum": 0}, "ignore_eos": {"type": "boolean"},
            "repetition_penalty": {"type": "number", "exclusiveMinimum": true, "minimum": 0},
            "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2}, "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
            "logit_bias": {"type": "object", "additionalProperties": {"type": "number"}},
            "allowed_token_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "bad_words": {"type": "array", "items": {"type": "string"}},
            "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "stop_token_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "include_stop_str_in_output": {"type": "boolean"}, "skip_special_tokens": {"type": "boolean"},
            "prompt_logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
            "use_beam_search": {"type": "boolean"}, "length_penalty": {"type": "number"},
            "early_stopping": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["never"]}]},
            "truncate_prompt_tokens": {"type": "integer", "minimum": 1}, "priority": {"type": "integer"},
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}, "continuous_usage_stats": {"type": "boolean"}}}}},
          "CompletionRequest": {"allOf": [{"$ref": "#/components/schemas/Sampling"}, {"type": "object", "required": ["prompt"], "properties": {
            "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}},
              {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}]},
            "max_tokens": {"type": "integer", "minimum": 1}, "logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
            "echo": {"type": "boolean"}, "add_special_tokens": {"type": "boolean"}, "user": {"type": "string"}}}]},
          "Message": {"type": "object", "required": ["role"], "properties": {"role": {"type": "string", "enum": ["system", "user", "assistant", "tool", "developer"]},
            "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "required": ["type"],
              "properties": {"type": {"type": "string"}, "text": {"type": "string"}}}}], "nullable": true},
            "name": {"type": "string"}, "tool_call_id": {"type": "string"}, "tool_calls": {"type": "array", "items": {"type": "object"}}}},
          "ChatRequest": {"allOf": [{"$ref": "#/components/schemas/Sampling"}, {"type": "object", "required": ["messages"], "properties": {
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
            "max_tokens": {"type": "integer", "minimum": 1}, "max_completion_tokens": {"type": "integer", "minimum": 1},
            "logprobs": {"type": "boolean"}, "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
            "tools": {"type": "array", "items": {"type": "object"}}, "add_generation_prompt": {"type": "boolean"},
            "continue_final_message": {"type": "boolean"}, "add_special_tokens": {"type": "boolean"},
            "chat_template_kwargs": {"type": "object"}}}]},
          "TokenizeRequest": {"type": "object", "properties": {"model": {"type": "string"}, "prompt": {"type": "string"},
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}, "add_special_tokens": {"type": "boolean"},
            "add_generation_prompt": {"type": "boolean"}, "return_token_strs": {"type": "boolean"}}},
          "DetokenizeRequest": {"type": "object", "required": ["tokens"], "properties": {"model": {"type": "string"},
            "tokens": {"type": "array", "items": {"type": "integer", "minimum": 0}}}}
        },
        "responses": {
          "Error": {"description": "An error in OpenAI's shape.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "paths": {
        "/v1/completions": {"post": {"operationId": "createCompletion", "summary": "Text completion (streaming with stream: true).",
          "security": [{"bearer": []}, {}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}}},
          "responses": {"200": {"description": "A text_completion object, or server-sent events of them.",
            "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/v1/chat/completions": {"post": {"operationId": "createChatCompletion", "summary": "Chat completion through the model's chat template.",
          "security": [{"bearer": []}, {}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
          "responses": {"200": {"description": "A chat.completion object, or server-sent events of chat.completion.chunk objects.",
            "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/v1/models": {"get": {"operationId": "listModels", "summary": "The served model.", "security": [{"bearer": []}, {}],
          "responses": {"200": {"description": "A list of models.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"object": {"type": "string"}, "data": {"type": "array", "items": {"type": "object"}}}}}}},
            "401": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/tokenize": {"post": {"operationId": "tokenize", "summary": "Token ids of a prompt, or of messages rendered through the chat template.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenizeRequest"}}}},
          "responses": {"200": {"description": "Tokens, their count and the context length.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"tokens": {"type": "array", "items": {"type": "integer"}}, "count": {"type": "integer"}, "max_model_len": {"type": "integer"}}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/detokenize": {"post": {"operationId": "detokenize", "summary": "Text of token ids.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetokenizeRequest"}}}},
          "responses": {"200": {"description": "The text.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"prompt": {"type": "string"}}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/": {"get": {"operationId": "chatPage", "summary": "The chat page (one self-contained HTML document).",
          "responses": {"200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/index.html": {"get": {"operationId": "chatPageIndex", "summary": "The chat page, as at /.",
          "responses": {"200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/health": {"get": {"operationId": "health", "summary": "200 once the model is loaded.",
          "responses": {"200": {"description": "Ready."}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/version": {"get": {"operationId": "version", "summary": "The server's version.",
          "responses": {"200": {"description": "The version.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"version": {"type": "string"}}}}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document.",
          "responses": {"200": {"description": "OpenAPI 3 document.", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics with vLLM's names.",
          "responses": {"200": {"description": "Prometheus text exposition.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
      }
    }
    """#
}
