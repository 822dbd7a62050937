/// Chat templates for models whose GGUF carries none (`tokenizer.chat_template` missing).
public enum BuiltinChatTemplates {
    /// ChatML (`<|im_start|>role\n…<|im_end|>\n`), as SmolLM2 and Qwen use.
    static let chatml = """
    {%- for message in messages -%}
    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' -}}
    {%- endfor -%}
    {%- if add_generation_prompt -%}
    {{- '<|im_start|>assistant\\n' -}}
    {%- endif -%}
    """

    /// Gemma 3's turn format; the system message is folded into the first user turn, as Gemma 3's
    /// official template does (`assistant` is written `model`).
    static let gemma = """
    {{ bos_token }}
    {%- if messages[0]['role'] == 'system' -%}
        {%- if messages[0]['content'] is string -%}
            {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
        {%- else -%}
            {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}
        {%- endif -%}
        {%- set loop_messages = messages[1:] -%}
    {%- else -%}
        {%- set first_user_prefix = "" -%}
        {%- set loop_messages = messages -%}
    {%- endif -%}
    {%- for message in loop_messages -%}
        {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
            {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif -%}
        {%- if (message['role'] == 'assistant') -%}
            {%- set role = "model" -%}
        {%- else -%}
            {%- set role = message['role'] -%}
        {%- endif -%}
        {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}
        {%- if message['content'] is string -%}
            {{ message['content'] | trim }}
        {%- elif message['content'] is iterable -%}
            {%- for item in message['content'] -%}
                {%- if item['type'] == 'image' -%}
                    {{ '<start_of_image>' }}
                {%- elif item['type'] == 'text' -%}
                    {{ item['text'] | trim }}
                {%- endif -%}
            {%- endfor -%}
        {%- else -%}
            {{ raise_exception("Invalid content type") }}
        {%- endif -%}
        {{ '<end_of_turn>\\n' }}
    {%- endfor -%}
    {%- if add_generation_prompt -%}
        {{'<start_of_turn>model\\n'}}
    {%- endif -%}
    """

    /// Llama 3's header format (`<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`).
    static let llama3 = """
    {{- bos_token }}
    {%- for message in messages %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
    {%- endfor %}
    {%- if add_generation_prompt %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
    {%- endif %}
    """

    /// Mistral's instruction format (`[INST] … [/INST]`), the system message prefixed to the first user turn.
    static let mistral = """
    {%- if messages[0]['role'] == 'system' %}
        {%- set system_message = messages[0]['content'] %}
        {%- set loop_messages = messages[1:] %}
    {%- else %}
        {%- set loop_messages = messages %}
    {%- endif %}
    {{- bos_token }}
    {%- for message in loop_messages %}
        {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
            {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
        {%- endif %}
        {%- if message['role'] == 'user' %}
            {%- if loop.first and system_message is defined %}
                {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
            {%- else %}
                {{- ' [INST] ' + message['content'] + ' [/INST]' }}
            {%- endif %}
        {%- elif message['role'] == 'assistant' %}
            {{- ' ' + message['content'] + eos_token }}
        {%- else %}
            {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
        {%- endif %}
    {%- endfor %}
    """

    /// Phi-3's format (`<|user|>\n…<|end|>\n`).
    static let phi3 = """
    {%- for message in messages -%}
    {{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' -}}
    {%- endfor -%}
    {%- if add_generation_prompt -%}
    {{- '<|assistant|>\\n' -}}
    {%- endif -%}
    """

    private static let table: [String: String] = [
        "chatml": chatml, "gemma": gemma, "llama3": llama3, "mistral": mistral, "phi3": phi3,
    ]

    /// The template source for a name (`chatml`, `gemma`, `llama3`, `mistral`, `phi3`), or nil.
    public static func named(_ name: String) -> String? { table[name.lowercased()] }

    /// The names `named(_:)` knows, sorted.
    public static var names: [String] { table.keys.sorted() }

    /// The template to use for a GGUF `general.architecture` without its own template:
    /// Gemma family → `gemma`, Llama and everything else → `chatml` (the common default of
    /// llama.cpp and Ollama for template-less instruct models), Phi-3 → `phi3`.
    public static func forArchitecture(_ arch: String) -> String? {
        let a = arch.lowercased()
        if a.hasPrefix("gemma") { return gemma }
        if a.hasPrefix("phi3") { return phi3 }
        return chatml
    }
}
